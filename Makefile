# Short targets for the common tasks. Every target installs what it needs first.
#   make run     set up, build, and run the main job (see README)
#   make test    set up, build, and pass all tests (what CI runs)
#   make asan    the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz    every fuzzer, FUZZ_SECONDS in all (default 120) shared between them
#   make fuzz-full  every fuzzer for FUZZ_RUNS inputs each (default 10 million)
#   make build-bench  build every benchmark in Release without running it (what CI runs)
#   make reliability  the crash tests at full size (100 kills per backend) and a 10-minute soak
#                at 80 % of measured peak (docs/RELIABILITY.md)
#   make bench   build the benchmarks in Release and run them (docs/PERFORMANCE.md)
#   make format  clang-format every C++ file in place
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 120
FUZZ_RUNS ?= 10000000
FUZZERS = policy_loader_fuzzer json_body_fuzzer query_params_fuzzer time_fuzzer \
  scenario_parser_fuzzer
POLICY ?= policies/wig.yaml
LISTEN ?= 127.0.0.1:8080
CMAKE_FLAGS ?=

.PHONY: deps build build-bench run test test-fast mutation asan build-fuzz fuzz fuzz-full bench \
  format clean reliability

deps:
	./scripts/setup-deps.sh

build: deps
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS)

run: build
	LISTEN=$(LISTEN) ./scripts/run-main-job.sh $(POLICY)

test: build
	ctest --test-dir build --output-on-failure -j $(JOBS)

# The suite must fail for each deliberately broken rule (docs/TESTING.md). Rebuilds a few files.
mutation: build
	./scripts/mutation-check.sh build

reliability: build
	./scripts/reliability.sh build

test-fast: build
	ctest --test-dir build --output-on-failure -j $(JOBS) -L fast

asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCUSTOS_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS)

build-fuzz: deps
	CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCUSTOS_FUZZ=ON -DCUSTOS_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZERS)

# FUZZ_SECONDS is the whole budget: each fuzzer gets an equal share (at least 5 s).
fuzz: build-fuzz
	share=$$(( $(FUZZ_SECONDS) / $(words $(FUZZERS)) )); [ $$share -ge 5 ] || share=5; \
	for f in $(FUZZERS); do ./scripts/run-fuzzer.sh $$f $$share || exit 1; done

fuzz-full: build-fuzz
	for f in $(FUZZERS); do ./scripts/run-fuzzer.sh $$f --runs $(FUZZ_RUNS) || exit 1; done

build-bench: deps
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTOS_BENCH=ON -DCUSTOS_TESTS=OFF
	cmake --build build-bench -j $(JOBS)

# Sizes are the goals' (1M subjects, 10M records); the read and sweep data sets take minutes
# to build the first time and several GB under /tmp.
bench: build-bench
	build-bench/bench/api_handle_bench 1000 200000 5
	build-bench/bench/decide_bench 1000000 2000000
	build-bench/bench/consent_ingest_bench 64 200 10
	build-bench/bench/subject_read_bench 1000000 10000000 1000
	build-bench/bench/retention_bench 1000000 10000000 5
	build-bench/bench/systems_reach_bench 1000000 2000 200
	bench/tail_picture.sh build-bench 10 64 build-bench/tail.svg

format:
	find src tests fuzz bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan build-fuzz build-bench
