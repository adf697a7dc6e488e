"""ics-triage unit tests: frame parsing and normalisation, types, crash states, the
hand-written logs for variants that are hard to produce (OOM, deadly signal, TSan, fibers),
ics-stress JSON (growth series and allocation sites included), known findings, report
formats, minimisation plumbing, exit codes."""
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

from triage_testlib import temp_dir, LOGS, REPO_ROOT, by_type, run_tool

from triage.frames import crash_state, normalize_function, parse_frame, parse_stack
from triage.grouping import group
from triage.run_info import series_line, stress_entry
from triage.sanitizer_logs import asan_type, parse_log, ubsan_check
from triage.severity import severity
from triage.stress_json import parse_stress


def log(name: str) -> str:
    return os.path.join(LOGS, name)


def parse_file(name: str):
    with open(log(name), encoding="utf-8") as f:
        return parse_log(f.read(), log(name))


class FrameTest(unittest.TestCase):
    def test_asan_frame_with_column(self):
        f = parse_frame("    #1 0x55fa3b80c8ab in ns::parse(int const*, int) /src/ab/x.cpp:14:22")
        self.assertEqual((f.index, f.function, f.file, f.line, f.column),
                         (1, "ns::parse(int const*, int)", "/src/ab/x.cpp", 14, 22))

    def test_gcc_frame_without_column(self):
        f = parse_frame("    #0 0x555c2452d2d6 in read_past_end(int const*, int) /tmp/hbo.cpp:4")
        self.assertEqual((f.function, f.file, f.line, f.column),
                         ("read_past_end(int const*, int)", "/tmp/hbo.cpp", 4, 0))

    def test_module_only_and_build_id(self):
        f = parse_frame("    #3 0x7f1c0fc5a04f  (/lib/x86_64-linux-gnu/libc.so.6+0x3c04f) (BuildId: 93ac)")
        self.assertEqual((f.function, f.file, f.module), ("", "", "/lib/x86_64-linux-gnu/libc.so.6+0x3c04f"))
        g = parse_frame("    #4 0x55 in _start (/tmp/hbo_c+0x21300) (BuildId: 07c5)")
        self.assertEqual((g.function, g.module), ("_start", "/tmp/hbo_c+0x21300"))

    def test_tsan_frame(self):
        f = parse_frame("    #0 bump() /tmp/race.cpp:3:41 (race+0xd438f) (BuildId: 5371)")
        self.assertEqual((f.function, f.file, f.line, f.module), ("bump()", "/tmp/race.cpp", 3, "race+0xd438f"))
        g = parse_frame("    #7 <null> <null> (libstdc++.so.6+0xd44a2)")
        self.assertEqual((g.function, g.file), ("", ""))

    def test_not_a_frame(self):
        self.assertIsNone(parse_frame("READ of size 4 at 0x604000000038 thread T0"))

    def test_stack_stops_at_next_stack(self):
        lines = ["#0 0x1 in a() /x.cpp:1", "#1 0x2 in b() /x.cpp:2", "", "#0 0x3 in c() /x.cpp:3"]
        self.assertEqual([f.function for f in parse_stack(lines)], ["a()", "b()"])


class NormalizeTest(unittest.TestCase):
    CASES = {
        "read_past_end(int const*, int)": "read_past_end",
        "ics::Reader::read_u32(unsigned int&) const": "ics::Reader::read_u32",
        "operator new[](unsigned long)": "operator new[]",
        "ics::Node::operator->() const": "ics::Node::operator->",
        "ics::Foo<ics::Bar>::operator<<(int)": "ics::Foo::operator<<",
        "ics::Reader::operator bool() const": "ics::Reader::operator bool",
        "main::$_1::operator()() const": "main::$_1::operator()",
        # internal linkage: only the last component, all g++'s symboliser prints
        "(anonymous namespace)::parse(ics::Reader&)": "parse",
        "ics::(anonymous namespace)::Foo::bar(int*, int)": "bar",
        "ics::(anonymous namespace)::via_lambda(int)::$_0::operator()(int) const": "operator()",
        "std::vector<int, std::allocator<int> >::at(unsigned long)": "std::vector::at",
        "void std::__invoke_impl<void, main::$_1>(std::__invoke_other, main::$_1&&)": "std::__invoke_impl",
        "unsigned long ics::foo<3>(int)": "ics::foo",
        "ics::Globset::decode[abi:cxx11](ics::Reader&) [clone .cold]": "ics::Globset::decode",
        "ics::x()::{lambda(int)#1}::operator()(int) const": "ics::x::{lambda(int)#1}::operator()",
        "LLVMFuzzerTestOneInput": "LLVMFuzzerTestOneInput",
    }

    def test_cases(self):
        for raw, want in self.CASES.items():
            self.assertEqual(normalize_function(raw), want, raw)

    def test_keep_templates(self):
        self.assertEqual(normalize_function("ics::Foo<ics::Bar>::get(int)", keep_templates=True),
                         "ics::Foo<ics::Bar>::get")


class CrashStateTest(unittest.TestCase):
    def frames(self, *lines):
        return parse_stack([f"#{i} 0x1 in {l}" for i, l in enumerate(lines)])

    def test_drops_runtime_library_and_fiber_frames(self):
        frames = self.frames(
            "__asan_memcpy /src/llvm/compiler-rt/lib/asan/asan_interceptors.cpp:22",
            "__interceptor_malloc (/out/x+0x10)",
            "operator new(unsigned long) (/out/x+0x20)",
            "std::vector<char, std::allocator<char> >::push_back(char const&) /usr/include/c++/12/bits/stl_vector.h:1200",
            "ics::Writer::put(unsigned char) /r/engine/src/bytes.cpp:10:3",
            "boost::fibers::context::resume() (/lib/libboost_fiber.so+0x10)",
            "jump_fcontext (/lib/libboost_context.so+0x20)",
            "ics::FxWriter::flush() /r/engine/src/fxstream.cpp:99:5",
            "fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/out/x+0x30)",
            "ics::Sync::next() /r/engine/src/sync.cpp:5:1",
            "ics::Sync::run() /r/engine/src/sync.cpp:9:1")
        self.assertEqual(crash_state(frames), ["ics::Writer::put", "ics::FxWriter::flush", "ics::Sync::next"])

    def test_build_folder_named_asan_is_not_the_runtime(self):
        # clang records sources relative to the build folder: build/asan/../../engine/...
        frames = self.frames(
            "__asan_memcpy /src/llvm/compiler-rt/lib/asan/asan_interceptors.cpp:22",
            "ics::get_transfer_state(ics::Session&, unsigned int) /r/build/asan/../../engine/src/context.cpp:80:30",
            "ics::run() /r/build/bugzoo/x/asan/../../../../engine/src/a.cpp:3:1")
        self.assertEqual(crash_state(frames), ["ics::get_transfer_state", "ics::run"])

    def test_cut_at_fuzz_entry(self):
        frames = self.frames("ics::decode() /r/engine/src/a.cpp:1",
                             "LLVMFuzzerTestOneInput /r/fuzz/fuzz_a.cpp:9",
                             "main /r/fuzz/driver/replay_main.cpp:60")
        self.assertEqual(crash_state(frames), ["ics::decode", "LLVMFuzzerTestOneInput"])


class TypeTest(unittest.TestCase):
    def test_asan_types(self):
        access = re.match(r"(READ|WRITE) of size (\d+)", "WRITE of size 8")
        self.assertEqual(asan_type("heap-use-after-free on address 0x6", access), "Heap-use-after-free WRITE 8")
        self.assertEqual(asan_type("stack-buffer-overflow on address 0x7", access), "Stack-buffer-overflow WRITE 8")
        self.assertEqual(asan_type("attempting double-free on 0x60 in thread T0:", None), "Heap-double-free")
        self.assertEqual(asan_type("SEGV on unknown address 0x000 (pc 0x5 bp 0x7 sp 0x7 T0)", None),
                         "SEGV on unknown address")
        self.assertEqual(asan_type("stack-overflow on address 0x7ffe (pc 0x5 T0)", None), "Stack-overflow")

    def test_ubsan_checks(self):
        cases = {
            "signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'": "signed-integer-overflow",
            "negation of -2147483648 cannot be represented in type 'int'": "signed-integer-overflow",
            "shift exponent 40 is too large for 32-bit type 'int'": "shift-exponent",
            "left shift of negative value -1": "shift-base",
            "division by zero": "integer-divide-by-zero",
            "index 9 out of bounds for type 'int [8]'": "bounds",
            "applying non-zero offset 4008 to null pointer": "pointer-overflow",
            "load of null pointer of type 'int'": "null",
            "load of value 7, which is not a valid value for type 'bool'": "bool",
            "execution reached an unreachable program point": "unreachable",
        }
        for message, check in cases.items():
            self.assertEqual(ubsan_check(message, None), check, message)
        self.assertEqual(ubsan_check("anything", "implicit-signed-integer-truncation"),
                         "implicit-signed-integer-truncation")


class HandWrittenLogTest(unittest.TestCase):
    def test_oom_rss_state_is_the_target(self):
        (occ,) = parse_file("oom_rss.log")
        self.assertEqual(occ.type, "Out-of-memory")
        self.assertEqual(occ.details["rss_limit_mb"], 2048)
        rc, _, report = run_tool([log("oom_rss.log")])
        (f,) = report["findings"]
        self.assertEqual(f["state"], ["fuzz_idset"])  # all frames are libFuzzer's
        self.assertEqual(f["reproducer"]["target"], "idset")
        self.assertEqual(f["severity"], "Low")

    def test_oom_malloc_stack_and_location(self):
        rc, _, report = run_tool([log("oom_malloc.log")])
        (f,) = report["findings"]
        self.assertEqual(f["type"], "Out-of-memory")
        self.assertEqual(f["state"], ["ics::FxParser::begin_property", "ics::FxParser::feed",
                                      "LLVMFuzzerTestOneInput"])
        self.assertEqual(f["location"]["uri"], "engine/src/fxstream.cpp")  # from /src/icsfuzz/...
        self.assertEqual(f["location"]["line"], 311)
        self.assertIsNone(f["reproducer"]["input"])  # ./oom-... is not on this machine
        self.assertEqual(f["reproducer"]["command"], "build/fuzz/fuzz/fuzz_fxstream "
                         "-malloc_limit_mb=4095 ./oom-4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f")

    def test_deadly_signal_abort(self):
        (occ,) = parse_file("deadly_abort.log")
        self.assertEqual(occ.type, "Abort")
        self.assertEqual(occ.running, "corpus/globset/crash-77")
        rc, _, report = run_tool([log("deadly_abort.log")])
        (f,) = report["findings"]
        self.assertEqual(f["state"], ["ics::Globset::push", "ics::Globset::decode", "LLVMFuzzerTestOneInput"])
        self.assertEqual(f["reproducer"]["command"],
                         "build/fuzz/fuzz/fuzz_globset corpus/globset/crash-77")

    def test_deadly_signal_trap_and_oracle(self):
        occs = parse_file("deadly_trap.log")
        self.assertEqual([o.type for o in occs], ["Fatal-signal", "Oracle-failure"])
        oracle = occs[1]
        self.assertEqual(oracle.details["message"], "oracle failed: decoded == original")
        self.assertEqual(oracle.location, ("/src/icsfuzz/fuzz/fuzz_idset.cpp", 52, 0))
        self.assertEqual([f.function for f in oracle.frames][4],
                         "(anonymous namespace)::check_roundtrip(ics::IdSet const&)")
        self.assertEqual(oracle.state, ["decoded == original", "fuzz_idset.cpp"])
        self.assertEqual(occs[0].artifact, "./crash-0a1b2c")

    def test_fiber_leaks_grouped_by_allocation_stack(self):
        rc, _, report = run_tool([log("fiber_leaks.log")])
        (direct,) = by_type(report, "Direct-leak")
        (indirect,) = by_type(report, "Indirect-leak")
        self.assertEqual(direct["count"], 2)  # the two blocks differ only in fiber frames
        self.assertEqual(direct["state"], ["ics::Session::configure_sync", "ics::stress::run_loop"])
        self.assertEqual(indirect["state"], ["ics::DownloadContext::DownloadContext",
                                             "ics::Session::configure_sync", "ics::stress::run_loop"])
        self.assertEqual(direct["details"]["bytes"], 96)
        self.assertIsNone(direct["gtest"])  # the test before the report had finished

    def test_gtest_context_and_stack_overflow(self):
        rc, _, report = run_tool([log("gtest_asan.log")])
        (f,) = report["findings"]
        self.assertEqual(f["type"], "Stack-buffer-overflow WRITE 8")
        self.assertEqual(f["severity"], "High")
        self.assertEqual(f["gtest"], "Globset.DecodeTruncated")
        self.assertEqual(f["state"][:2], ["ics::Reader::read_bytes", "ics::Globset::decode_range"])
        self.assertEqual(f["location"]["uri"], "engine/include/ics/bytes.h")
        self.assertIn("Globset.DecodeTruncated", f["reproducer"]["command"])

    def test_ubsan_without_and_with_stack(self):
        rc, _, report = run_tool([log("ubsan_plain.log")])
        types = {f["type"]: f for f in report["findings"]}
        self.assertEqual(set(types), {"UBSan: shift-exponent", "UBSan: bool", "UBSan: alignment"})
        self.assertEqual(types["UBSan: shift-exponent"]["state"], ["ids.cpp:61"])
        self.assertEqual(types["UBSan: shift-exponent"]["location"]["uri"], "engine/src/ids.cpp")
        self.assertEqual(types["UBSan: alignment"]["state"],
                         ["ics::PropValue::as_u32", "ics::PropertyBag::get", "main"])

    def test_tsan_data_race(self):
        rc, _, report = run_tool([log("tsan_race.log")])
        (f,) = report["findings"]
        self.assertEqual(f["type"], "Data-race")
        self.assertEqual(f["state"][:2], ["ics::MemoryStats::add", "ics::Charge::make"])
        self.assertEqual(f["location"], {"uri": "engine/src/memory.cpp", "line": 40, "column": 15,
                                         "fallback": False})


class StressJsonTest(unittest.TestCase):
    def test_memory_growth_svg(self):
        rc, _, report = run_tool([log("stress_growth.json")])
        self.assertEqual(rc, 1)
        (f,) = report["findings"]
        self.assertEqual((f["type"], f["state"]), ("Memory-growth", ["DownloadContext", "download-loop"]))
        self.assertTrue(f["reproducer"]["command"].startswith("build/default/stress/ics-stress"))
        svg_path = os.path.join(report["_out"], f["plot"])
        with open(svg_path, encoding="utf-8") as svg:
            text = svg.read()
        points = re.search(r'<polyline[^>]* points="([^"]+)"', text).group(1).split()
        self.assertEqual(len(points), 9)
        ys = [float(p.split(",")[1]) for p in points]
        self.assertEqual(ys, sorted(ys, reverse=True))  # growing bytes go up the picture
        self.assertIn("DownloadContext", text)
        self.assertIn("live bytes", text)
        self.assertTrue(f["location"]["fallback"])

    def test_derived_findings_without_list(self):
        rc, _, report = run_tool([log("stress_mixed.json")])
        types = sorted(f["type"] for f in report["findings"])
        self.assertEqual(types, ["Divergence", "Unexpected-error"])
        (err,) = by_type(report, "Unexpected-error")
        self.assertEqual(err["state"], ["get_buffer", "FormatError"])
        self.assertEqual(err["severity"], "None")

    def test_clean_run(self):
        rc, out, report = run_tool([log("stress_clean.json")])
        self.assertEqual((rc, report["findings"]), (0, []))
        self.assertNotIn("run", report)

    def test_run_info_in_json_and_markdown(self):
        run = {"fuzz": [{"target": "globset", "seconds": 60, "exec_per_s": 1234, "cov": 99,
                         "corpus": 7, "artifacts": 0}],
               "stress": [{"scenario": "mixed", "exit": 0, "loops": 50, "verdict": "clean"}],
               "coverage": {k: {"covered": 3, "count": 4, "percent": 75.0}
                            for k in ("lines", "branches", "functions", "regions")}}
        fd, path = tempfile.mkstemp(suffix=".json", dir=temp_dir("triage-run-"))
        with os.fdopen(fd, "w") as f:
            json.dump(run, f)
        rc, _, report = run_tool([log("stress_clean.json")], "--run-info", path)
        self.assertEqual((rc, report["run"]), (0, run))
        with open(os.path.join(report["_out"], "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("| globset | 60 | 1234 | 99 | 7 | 0 |", md)
        self.assertIn("| mixed | 0 | 50 |", md)
        self.assertIn("lines 75.0% (3/4)", md)

    def test_bad_run_info_is_usage_error(self):
        rc, out, _ = run_tool([log("stress_clean.json")], "--run-info", "/nonexistent.json")
        self.assertEqual(rc, 2, out)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def polylines(svg: str):
    """{data-series: attributes} of the plot's polylines."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<polyline data-series="(\w+)"[^>]*>', svg)}


class GrowthSeriesTest(unittest.TestCase):
    """ics-stress JSON with growth series (server / client / process) and allocation sites."""
    SITE = ["ics::Replica::apply_message", "ics::Replica::apply", "run_loop"]

    def test_same_site_in_client_and_process_is_one_finding(self):
        rc, out, report = run_tool([log("stress_site.json")])
        self.assertEqual(rc, 1)
        (f,) = report["findings"]  # the client finding names the site with argument lists
        self.assertEqual((f["type"], f["state"], f["count"]), ("Memory-growth", self.SITE, 2))
        self.assertEqual(f["key"], "Memory-growth @ " + " / ".join(self.SITE))
        self.assertEqual(f["series"], ["process", "client"])
        self.assertEqual(f["location"], {"uri": "engine/src/replica.cpp", "line": 143, "column": 0,
                                         "fallback": False})
        self.assertEqual([fr["line"] for fr in f["site"]["frames"]], [143, 128, 111])
        self.assertEqual((f["site"]["bytes"], f["site"]["allocations"]), (598016.0, 1168))
        self.assertEqual(len(f["sites"]), 3)
        self.assertEqual(f["sites"][0], f["site"])
        self.assertEqual(set(f["series_samples"]), {"server", "client", "process"})
        self.assertEqual(f["samples"], f["series_samples"]["process"])
        self.assertEqual(f["details"]["heap_source"], "sanitizer-hooks")
        self.assertNotIn("sites", f["details"])
        self.assertIn("Memory-growth (process heap, client replica)", out)

    def test_plot_has_a_line_per_series_and_a_legend(self):
        rc, _, report = run_tool([log("stress_site.json")])
        (f,) = report["findings"]
        svg = read(os.path.join(report["_out"], f["plot"]))
        lines = polylines(svg)
        self.assertEqual(set(lines), {"server", "client", "process"})
        for name in ("client", "process"):  # grown: thick, solid
            self.assertIn('stroke-width="2.5"', lines[name])
            self.assertNotIn("dasharray", lines[name])
        self.assertIn("stroke-dasharray", lines["server"])
        for text in ("process heap (grew)", "client replica (grew)", "server account",
                     "2200.0 B/loop", "0.4 B/loop", "ics::Replica::apply_message"):
            self.assertIn(text, svg)
        self.assertNotIn("server account (grew)", svg)
        process = [p.split(",") for p in re.search(r'points="([^"]+)"', lines["process"]).group(1).split()]
        self.assertEqual(len(process), 9)
        ys = [float(y) for _, y in process]
        self.assertEqual(ys, sorted(ys, reverse=True))  # growing bytes go up the picture

    def test_report_names_series_and_site(self):
        rc, _, report = run_tool([log("stress_site.json")])
        md = read(os.path.join(report["_out"], "report.md"))
        self.assertIn("## 1. Memory-growth (process heap, client replica) (new", md)
        self.assertIn("| Memory-growth (process heap, client replica) |", md)
        self.assertIn("grew in: process heap (`process`, 2200.0 B/loop", md)
        self.assertIn("client replica (`client`, 1536.0 B/loop", md)
        self.assertIn("allocation site: `ics::Replica::apply_message` (engine/src/replica.cpp:143)"
                      " <- `ics::Replica::apply` (engine/src/replica.cpp:128) <- `run_loop` "
                      "(stress/client.cpp:111)", md)
        self.assertIn("| 2 | 16.0 KiB | 64 | `ics::Replica::apply_folder` (engine/src/replica.cpp:156)"
                      "<br>", md)
        self.assertIn("heap source: sanitizer-hooks", md)
        sarif = json.loads(read(os.path.join(report["_out"], "report.sarif")))
        (result,) = sarif["runs"][0]["results"]
        loc = result["locations"][0]["physicalLocation"]
        self.assertEqual((loc["artifactLocation"]["uri"], loc["region"]["startLine"]),
                         ("engine/src/replica.cpp", 143))
        self.assertIn("process heap", result["message"]["text"])
        self.assertIn("Allocation site: ics::Replica::apply_message (engine/src/replica.cpp:143)",
                      result["message"]["text"])
        self.assertEqual(result["properties"]["series"], ["process", "client"])
        self.assertFalse(result["properties"]["locationIsPlaceholder"])

    def test_server_growth_without_site_keeps_the_old_key(self):
        rc, _, report = run_tool([log("stress_server.json")])
        (f,) = report["findings"]
        self.assertEqual(f["state"], ["DownloadContext", "download-loop"])
        self.assertEqual((f["series"], f["site"], f["sites"]), (["server"], None, []))
        self.assertTrue(f["location"]["fallback"])
        svg = read(os.path.join(report["_out"], f["plot"]))
        lines = polylines(svg)
        self.assertEqual(set(lines), {"server", "client", "process"})
        self.assertIn('stroke-width="2.5"', lines["server"])
        self.assertIn("stroke-dasharray", lines["process"])  # not flagged in this run
        self.assertIn("server account (grew)", svg)
        # the old format (no series: the account) and the new one give the same finding
        rc, _, both = run_tool([log("stress_growth.json"), log("stress_server.json")])
        (f,) = both["findings"]
        self.assertEqual((f["count"], f["key"]), (2, "Memory-growth @ DownloadContext / download-loop"))
        svg = read(os.path.join(both["_out"], f["plot"]))  # the occurrence with series
        self.assertEqual(set(polylines(svg)), {"server", "client", "process"})

    def test_old_format_unchanged(self):
        rc, _, report = run_tool([log("stress_growth.json")])
        (f,) = report["findings"]
        self.assertEqual((f["series"], f["site"], f["sites"], f["series_samples"]), ([], None, [], {}))
        md = read(os.path.join(report["_out"], "report.md"))
        self.assertIn("## 1. Memory-growth (new, severity Low)", md)
        self.assertNotIn("grew in", md)
        svg = read(os.path.join(report["_out"], f["plot"]))
        self.assertEqual(len(re.findall("<polyline", svg)), 1)
        self.assertNotIn("data-series", svg)

    def doc(self, findings=None, series=None):
        d = {"verdict": "finding", "scenario": "mixed", "command": "ics-stress", "seed": 3}
        if findings is not None:
            d["findings"] = findings
        if series is not None:
            d["series"] = series
        return d

    def test_series_without_site_do_not_merge(self):
        occs = parse_stress(self.doc([
            {"type": "Memory-growth", "series": s, "kind": "total", "slope_bytes_per_loop": 9.0}
            for s in ("server", "client", "process")]), "x.json")
        findings = group(occs, False)
        self.assertEqual(sorted(f.key for f in findings), [
            "Memory-growth @ total / mixed", "Memory-growth @ total / mixed / client",
            "Memory-growth @ total / mixed / process"])
        self.assertEqual(sorted(f.title for f in findings), [
            "Memory-growth (client replica)", "Memory-growth (process heap)",
            "Memory-growth (server account)"])

    def test_site_without_state_gives_the_state(self):
        site = {"frames": [{"function": "ics::Replica::apply_message(ics::DownloadedMessage const&)",
                            "file": "/src/icsfuzz/engine/src/replica.cpp", "line": 143},
                           {"function": "ics::Replica::apply(ics::SyncDownload const&, ics::Store const&)",
                            "file": "engine/src/replica.cpp", "line": 128}],
                "bytes": 100, "allocations": 2}
        (occ,) = parse_stress(self.doc([{"type": "Memory-growth", "series": "process",
                                          "site": site}]), "x.json")
        (f,) = group([occ], False)
        self.assertEqual(f.state, ["ics::Replica::apply_message", "ics::Replica::apply"])
        self.assertEqual(occ.location, ("/src/icsfuzz/engine/src/replica.cpp", 143, 0))
        self.assertEqual(occ.sites[0]["frames"][0]["line"], 143)

    def test_derived_growth_per_flagged_series(self):
        samples = [[0, 100], [10, 200]]
        occs = parse_stress(self.doc(series={
            "server": {"flagged": False, "slope_bytes_per_loop": 0.0, "samples": samples},
            "client": {"flagged": True, "slope_bytes_per_loop": 10.0, "samples": samples},
            "process": {"flagged": True, "slope_bytes_per_loop": 12.0, "samples": samples}}),
            "x.json")
        self.assertEqual([(o.series, o.state) for o in occs],
                         [("client", ["total", "mixed", "client"]),
                          ("process", ["total", "mixed", "process"])])
        self.assertEqual(occs[0].samples, [[0.0, 100.0], [10.0, 200.0]])

    def test_nightly_run_info_has_the_series(self):
        dirname = temp_dir("triage-runinfo-")
        runlog = os.path.join(dirname, "run.jsonl")
        with open(runlog, "w") as f:
            for name in ("stress_site.json", "stress_growth.json"):
                f.write(json.dumps({"scenario": name, "exit": "1", "json": log(name)}) + "\n")
            f.write(json.dumps({"scenario": "clean seeds 1..2", "exit": "0"}) + "\n")  # no JSON
        self.assertEqual(stress_entry({"scenario": "clean seeds 1..2", "exit": "0"}),
                         {"scenario": "clean seeds 1..2", "exit": 0})
        entry = stress_entry({"scenario": "s", "exit": "1", "json": log("stress_site.json")})
        self.assertEqual(entry["series"]["client"], {
            "slope_bytes_per_loop": 1536.0, "flagged": True,
            "reason": "growth: every part of the confidence rule holds"})
        self.assertEqual(entry["heap"]["source"], "sanitizer-hooks")
        self.assertNotIn("series", stress_entry({"scenario": "s", "exit": "1",
                                                 "json": log("stress_growth.json")}))
        self.assertEqual(series_line(log("stress_site.json")), "server 0.4 B/loop, client 1536.0 "
                         "B/loop (flagged), process 2200.0 B/loop (flagged)")
        self.assertEqual(series_line(log("stress_growth.json")), "")
        run_json = os.path.join(dirname, "run.json")
        with open(run_json, "w") as out:
            subprocess.run([sys.executable, os.path.join(REPO_ROOT, "ci", "triage", "run_info.py"),
                            runlog, os.path.join(dirname, "no-coverage.json")], stdout=out, check=True)
        rc, _, report = run_tool([log("stress_clean.json")], "--run-info", run_json)
        md = read(os.path.join(report["_out"], "report.md"))
        self.assertIn("| scenario | exit | loops | loops/s | growth B/loop | verdict | server B/loop "
                      "| client B/loop | process B/loop |", md)
        self.assertIn("| stress_site.json | 1 | 400 | 950 | 0.4 | finding | 0.4 | **1536.0 flagged** "
                      "| **2200.0 flagged** |", md)
        self.assertIn("| stress_growth.json | 1 | 400 | 1800.5 | 512.0 | finding |  |  |  |", md)
        self.assertIn("| clean seeds 1..2 | 0 |", md)


class KnownFindingsTest(unittest.TestCase):
    def write_known(self, entries):
        fd, path = tempfile.mkstemp(suffix=".json", dir=temp_dir("triage-known-"))
        with os.fdopen(fd, "w") as f:
            json.dump(entries, f)
        return path

    def test_known_regression_new(self):
        known = self.write_known([
            {"type": "Abort", "state": ["ics::Globset::push", "ics::Globset::decode",
                                        "LLVMFuzzerTestOneInput"], "status": "open",
             "note": "assert in push", "issue": "#12"},
            {"key": "Fatal-signal @ ics::IdSet::merge / LLVMFuzzerTestOneInput", "status": "fixed",
             "note": "merge fixed", "issue": "#13"}])
        rc, _, report = run_tool([log("deadly_abort.log"), log("deadly_trap.log")], "--known", known)
        status = {f["type"]: f["status"] for f in report["findings"]}
        self.assertEqual(status, {"Abort": "known", "Fatal-signal": "regression", "Oracle-failure": "new"})
        self.assertEqual(by_type(report, "Abort")[0]["known"]["issue"], "#12")
        self.assertEqual(rc, 1)
        self.assertEqual(report["summary"]["regression"], 1)

    def test_only_known_exits_zero(self):
        known = self.write_known([{"type": "Abort", "state": "ics::Globset::push / ics::Globset::decode"
                                   " / LLVMFuzzerTestOneInput", "status": "open"}])
        rc, out, _ = run_tool([log("deadly_abort.log")], "--known", known)
        self.assertEqual(rc, 0, out)

    def test_fixed_alone_is_regression(self):
        known = self.write_known([{"key": "Abort @ ics::Globset::push / ics::Globset::decode / "
                                          "LLVMFuzzerTestOneInput", "status": "fixed"}])
        rc, _, report = run_tool([log("deadly_abort.log")], "--known", known)
        self.assertEqual((rc, report["findings"][0]["status"]), (1, "regression"))

    def test_bad_known_file_is_usage_error(self):
        for bad in ([{"type": "Abort", "state": [], "status": "maybe"}], {"not": "a list"}):
            rc, out, _ = run_tool([log("deadly_abort.log")], "--known", self.write_known(bad))
            self.assertEqual(rc, 2, out)

    def test_repo_file_is_valid(self):
        from triage.known import load_known
        self.assertIsInstance(load_known(os.path.join(REPO_ROOT, "ci", "known-findings.json")), list)


class ReportFormatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rc, cls.out, cls.report = run_tool([LOGS])

    def test_json_stable_keys(self):
        keys = {"id", "key", "type", "state", "status", "severity", "access", "impact",
                "reliability", "count", "known", "location",
                "reproducer", "sources", "stack", "allocation_stack", "free_stack", "gtest",
                "details", "samples", "plot", "series", "site", "sites", "series_samples"}
        for f in self.report["findings"]:
            self.assertEqual(set(f), keys)
        self.assertEqual(set(self.report), {"tool", "version", "summary", "findings", "_out"})
        self.assertEqual(len({f["key"] for f in self.report["findings"]}), len(self.report["findings"]))

    def test_sarif(self):
        with open(os.path.join(self.report["_out"], "report.sarif"), encoding="utf-8") as f:
            sarif = json.load(f)
        self.assertEqual(sarif["version"], "2.1.0")
        run = sarif["runs"][0]
        rules, results = run["tool"]["driver"]["rules"], run["results"]
        self.assertEqual(len(results), len(self.report["findings"]))
        self.assertEqual(len({r["id"] for r in rules}), len(rules))
        self.assertEqual(len(rules), len({f["type"] for f in self.report["findings"]}))
        for r in results:
            self.assertEqual(rules[r["ruleIndex"]]["id"], r["ruleId"])
            loc = r["locations"][0]["physicalLocation"]
            self.assertFalse(os.path.isabs(loc["artifactLocation"]["uri"]))
            self.assertGreaterEqual(loc["region"]["startLine"], 1)
        uaf_like = [r for r in rules if r["id"] == "stack-buffer-overflow-write-8"]
        self.assertEqual(uaf_like[0]["properties"]["security-severity"], "8.0")

    def test_markdown(self):
        with open(os.path.join(self.report["_out"], "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertTrue(md.startswith("# ics-triage report"))
        self.assertEqual(md.count("\n## "), len(self.report["findings"]))
        self.assertIn("| # | status | severity | access | type | crash state | count | reproduced | id |", md)

    def test_artifacts_and_out_dir_are_not_logs(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "crash-abc"), "w") as f:
                f.write("==1==ERROR: AddressSanitizer: SEGV on unknown address 0x0\n")
            rc, _, report = run_tool([d], out=os.path.join(d, "out"))
            self.assertEqual((rc, report["findings"]), (0, []))
            rc, _, report = run_tool([d], out=os.path.join(d, "out"))  # out/ holds reports now
            self.assertEqual((rc, report["findings"]), (0, []))


class MinimizeTest(unittest.TestCase):
    """--minimize plumbing against a stand-in for a libFuzzer binary (the real one is in
    test_libfuzzer.py, clang only)."""

    STUB = """#!/bin/sh
# libFuzzer stand-in. With -minimize_crash=1: records its arguments and writes the input's
# first byte to -exact_artifact_path. Otherwise it "crashes": prints replay.txt, exits 1.
dir=$(dirname "$0")
case " $* " in *" -minimize_crash=1 "*) ;; *) cat "$dir/replay.txt"; exit 1 ;; esac
for a in "$@"; do
  case "$a" in -exact_artifact_path=*) out="${a#-exact_artifact_path=}" ;; -*) ;; *) in="$a" ;; esac
done
echo "$@" > "$dir/args"
head -c 1 "$in" > "$out"
"""

    def setUp(self):
        self.dir = temp_dir("triage-min-")
        self.input = os.path.join(self.dir, "crash-1234")
        with open(self.input, "wb") as f:
            f.write(b"Xjunkjunkjunk")
        self.log = os.path.join(self.dir, "fuzz_stub.log")
        with open(log("deadly_trap.log"), encoding="utf-8") as src, open(self.log, "w") as dst:
            dst.write(src.read().split("INFO: Seed: 6")[0].replace("./crash-0a1b2c", self.input))

    def make_stub(self, replay_log, name="fuzz_idset"):
        path = os.path.join(self.dir, "bin", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(self.STUB)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        with open(replay_log, encoding="utf-8") as src, \
                open(os.path.join(self.dir, "bin", "replay.txt"), "w") as dst:
            dst.write(src.read())
        return path

    def test_minimized_and_command(self):
        stub = self.make_stub(self.log)
        rc, out, report = run_tool([self.log], "--minimize", "--binary-dir", os.path.dirname(stub),
                                   "--minimize-runs", "77")
        (f,) = report["findings"]
        rep = f["reproducer"]
        self.assertEqual(rep["minimize_status"], "minimized", out)
        self.assertEqual(rep["minimized_bytes"], 1)
        self.assertEqual(rep["binary"], stub)
        self.assertEqual(rep["command"], f"{stub} {rep['minimized']}")
        with open(os.path.join(self.dir, "bin", "args")) as f:
            args = f.read().split()
        self.assertIn("-minimize_crash=1", args)
        self.assertIn("-runs=77", args)
        self.assertEqual(args[-1], self.input)

    def test_minimized_input_that_crashes_elsewhere_is_discarded(self):
        stub = self.make_stub(log("oom_malloc.log"))
        rc, out, report = run_tool([self.log], "--minimize", "--binary-dir", os.path.dirname(stub))
        rep = report["findings"][0]["reproducer"]
        self.assertEqual(rep["minimize_status"],
                         "discarded: the minimised input crashes differently", out)
        self.assertIsNone(rep["minimized"])
        self.assertEqual(rep["command"], f"{stub} {self.input}")

    def test_skips_cleanly_without_binary(self):
        rc, out, report = run_tool([self.log], "--minimize", "--binary-dir", self.dir)
        (f,) = report["findings"]
        self.assertEqual(f["reproducer"]["minimize_status"], "skipped: no binary")
        self.assertEqual(f["reproducer"]["input"], self.input)
        self.assertIn("fuzz_idset", f["reproducer"]["command"])
        self.assertEqual(rc, 1)


class ExitCodeAndTableTest(unittest.TestCase):
    def test_usage(self):
        self.assertEqual(run_tool(["/nonexistent/log"])[0], 2)
        self.assertEqual(run_tool([])[0], 2)
        self.assertEqual(run_tool([log("oom_rss.log")], "--no-such-flag")[0], 2)

    def test_readme_severity_table_matches_code(self):
        with open(os.path.join(REPO_ROOT, "ci", "README.md"), encoding="utf-8") as f:
            text = f.read()
        table = text.split("<!-- severity-table -->")[1].split("<!-- /severity-table -->")[0]
        rows = [r.strip().strip("|").split("|") for r in table.strip().splitlines()[2:]]
        self.assertGreater(len(rows), 10)
        for cells in rows:
            example, level = cells[0].strip().strip("`"), cells[1].strip()
            details = {"zero_page": True} if "zero page" in cells[2] else {}
            if "memory left behind" in cells[2]:
                details = {"status": "GeneralFailure: memory not back to baseline"}
            self.assertEqual(severity(example, details), level, example)


if __name__ == "__main__":
    unittest.main()
