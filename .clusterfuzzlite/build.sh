#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of the icsfuzz fuzz targets. It follows the
# OSS-Fuzz contract: it reads only $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE
# $SRC $OUT and $WORK, builds the engine once as a static archive, links every
# fuzz/fuzz_<what>.cpp against it, and writes into $OUT for each target:
#   fuzz_<what>                  the binary
#   fuzz_<what>_seed_corpus.zip  corpus/<what>/
#   fuzz_<what>.dict             fuzz/<what>.dict
#   fuzz_<what>.options          [libfuzzer] dict, max_len
# The project lives at $SRC/icsfuzz (see the Dockerfile). ci/ossfuzz-local runs
# this script with clang-14 outside the container.
# $CC/$CFLAGS: no C sources. $CXXFLAGS and $LIB_FUZZING_ENGINE are word-split on purpose.
# shellcheck disable=SC2086

project="$SRC/icsfuzz"
build="$WORK/icsfuzz-build"
jobs="$(nproc)"
max_len=4096  # every seed is shorter; longer inputs only slow the codecs down
flags=(-std=c++20 -I"$project/engine/include" -I"$project/engine/testing/include" -I"$project/fuzz")
echo "icsfuzz: project $project, objects in $build, $jobs jobs"
mkdir -p "$build/engine" "$OUT"

# Compiles "$1" to "$2", at most $jobs at a time; `finish` waits for the rest.
pids=()
compile() {
  echo "  c++ $(basename "$1")"
  $CXX $CXXFLAGS "${flags[@]}" -c "$1" -o "$2" &
  pids+=("$!")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
}
finish() {
  for pid in "${pids[@]}"; do wait "$pid"; done
  pids=()
}

objs=()
for src in "$project"/engine/src/*.cpp "$project"/engine/testing/src/*.cpp; do
  objs+=("$build/engine/$(basename "${src%.cpp}").o")
  compile "$src" "${objs[-1]}"
done
targets=()
for src in "$project"/fuzz/fuzz_*.cpp; do
  targets+=("$(basename "${src%.cpp}")")
  compile "$src" "$build/${targets[-1]}.o"
done
finish
rm -f "$build/libics_engine.a"
ar rcs "$build/libics_engine.a" "${objs[@]}"

for name in "${targets[@]}"; do
  what="${name#fuzz_}"
  echo "  link $name"
  $CXX $CXXFLAGS "$build/$name.o" -o "$OUT/$name" $LIB_FUZZING_ENGINE "$build/libics_engine.a"
  printf '[libfuzzer]\ndict = %s.dict\nmax_len = %s\n' "$name" "$max_len" >"$OUT/$name.options"
  cp "$project/fuzz/$what.dict" "$OUT/$name.dict"
  rm -f "$OUT/${name}_seed_corpus.zip"
  if [ -d "$project/corpus/$what" ]; then
    (cd "$project/corpus/$what" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
done
echo "icsfuzz: ${#targets[@]} targets in $OUT"
