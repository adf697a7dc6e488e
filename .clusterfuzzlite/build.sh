#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of the icsfuzz fuzz targets, through the project's CMake,
# so that this build, the `fuzz` preset and ci/nightly compile the targets from one definition
# (fuzz/CMakeLists.txt). It follows the OSS-Fuzz contract: $CXX $CXXFLAGS $LIB_FUZZING_ENGINE
# $SRC $OUT $WORK ($CC and $CFLAGS go unused: there are no C sources). $LIB_FUZZING_ENGINE becomes the cache variable of the
# same name, which every fuzz target links. It writes into $OUT, for each target that
# fuzz/targets lists:
#   fuzz_<what>                  the binary
#   fuzz_<what>.options          fuzz/<what>.options, its dict renamed as below
#   fuzz_<what>.dict             fuzz/<what>.dict
#   fuzz_<what>_seed_corpus.zip  corpus/<what>/
# Targets that define libFuzzer's custom mutator hooks (fuzz/mutate/hooks.h) get them and the
# ics_fuzz_mutate library from the same CMake definition; nothing here names them.
# The project is $SRC/icsfuzz (see the Dockerfile); ci/ossfuzz-local runs this script outside
# the container with ICSFUZZ_SRC set to the checkout and the `fuzz` preset's flags.

project="${ICSFUZZ_SRC:-$SRC/icsfuzz}"
build="$WORK/ossfuzz"
echo "icsfuzz: project $project, build $build"
echo "icsfuzz: CXX=$CXX CXXFLAGS=$CXXFLAGS LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE"

mapfile -t targets < <("$project/fuzz/targets")
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$project" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DICS_LIBFUZZER=ON -DLIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DICS_BUILD_TESTS=OFF -DICS_BUILD_BENCH=OFF -DICS_BUILD_TOOLS=OFF -DICS_BUILD_STRESS=OFF
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

mkdir -p "$OUT"
for what in "${targets[@]}"; do
  name="fuzz_$what"
  cp "$build/fuzz/$name" "$OUT/$name"
  cp "$project/fuzz/$what.dict" "$OUT/$name.dict"
  sed "s/^dict *=.*/dict = $name.dict/" "$project/fuzz/$what.options" >"$OUT/$name.options"
  rm -f "$OUT/${name}_seed_corpus.zip"
  if [ -d "$project/corpus/$what" ]; then
    (cd "$project/corpus/$what" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
done
echo "icsfuzz: ${#targets[@]} targets in $OUT"
