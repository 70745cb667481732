# kiln — make targets. Anything that needs an engine brings up a private one
# (scripts/engine.sh) unless KILN_USE_EXISTING_DOCKER=1 and Docker is reachable.

TARGET   := x86_64-unknown-linux-gnu
BIN      := target/$(TARGET)/release/kiln-frontend
IMAGE    := kiln/frontend:dev
# Prefix for recipe lines that talk to the engine (Docker 28 unless KILN_DOCKER says otherwise).
ENGINE   := eval "$$(scripts/engine.sh up)" &&
# The e2e tests the compat engine (Docker 26.1, BuildKit v0.13: the oldest kiln supports) runs: hello as a .deb and a container, errors at spec lines
# (and the target list), the signer hand-off, a git checksum (checked by kiln's own step there).
COMPAT_TESTS := --test hello --test errors --test signing --test sources -- bookworm_deb_installs_and_runs \
  container_target_runs_the_program spec_errors_point_at_the_line failing_build_step_points_at_the_steps \
  print_targets_lists_the_routes packages_go_through_the_signer a_git_checksum_pins_a_tag

.PHONY: all build image rpm-standin test-signer push dockerfile-frontend demo test test-compat unit e2e bench bench-memory bench-lowering lint engine engine-down clean

all: build

## build: the static frontend and signer binaries (glibc, +crt-static: they run in FROM scratch images)
build:
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target $(TARGET) -p kiln-frontend -p kiln-signer

## image: build the frontend and signer images and load them into the engine as kiln/frontend:dev and kiln/signer:dev
image: build
	mkdir -p target/image target/signer-image
	cp $(BIN) target/image/kiln-frontend
	cp target/$(TARGET)/release/kiln-signer target/signer-image/kiln-signer
	$(ENGINE) docker build -q -f Dockerfile.frontend -t $(IMAGE) target/image >/dev/null && \
	  docker build -q -f Dockerfile.signer -t kiln/signer:dev target/signer-image >/dev/null
	@echo "built $(IMAGE) and kiln/signer:dev"

## push: push the project's images to the engine's private registry (what a standalone
## buildkitd or a remote builder pulls from) and print their refs
REGISTRY ?= 127.0.0.1:5055
push: image test-signer
	$(ENGINE) for img in $(IMAGE) kiln/signer:dev kiln/test-signer:dev; do \
	  docker tag $$img $(REGISTRY)/$$img && docker push -q $(REGISTRY)/$$img >/dev/null && echo $(REGISTRY)/$$img || exit 1; \
	done

## demo: package specs/hello.yml for bookworm, print the .deb and run the packaged program
demo: image
	$(ENGINE) scripts/demo.sh

## test-signer: the phony signer frontend the e2e tests sign with, as kiln/test-signer:dev
test-signer:
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target $(TARGET) -p kiln-test-signer
	mkdir -p target/test-signer
	cp target/$(TARGET)/release/kiln-test-signer target/test-signer/signer
	printf 'FROM scratch\nCOPY signer /signer\nLABEL moby.buildkit.frontend.network.none="true"\nLABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.contexts"\nENTRYPOINT ["/signer"]\n' > target/test-signer/Dockerfile
	$(ENGINE) docker build -q -t kiln/test-signer:dev target/test-signer >/dev/null
	@echo "built kiln/test-signer:dev"

## test: everything but fuzzing: unit, golden and e2e tests against a real engine
test: image test-signer rpm-standin
	$(ENGINE) cargo test --workspace --locked

## test-compat: the compat subset of the e2e tests on Docker 26.1 (stops a running Docker 28 of ours)
test-compat: export KILN_DOCKER := 26
test-compat:
	$(MAKE) image test-signer
	$(ENGINE) cargo test -p kiln-e2e --locked $(COMPAT_TESTS)

## unit: the tests that need no engine (unit, golden, compat, broken specs, snapshots)
unit:
	cargo test --workspace --locked --exclude kiln-e2e

## dockerfile-frontend: BuildKit's Dockerfile frontend (v0.32.2, from the vendored source) as a
## FROM scratch gateway image, kiln/dockerfile-frontend:dev: the fair anchor for benches
dockerfile-frontend:
	mkdir -p target/dockerfile-frontend
	cp "$$(scripts/buildkitd.sh dockerfile-frontend)" target/dockerfile-frontend/dockerfile-frontend
	printf 'FROM scratch\nCOPY dockerfile-frontend /bin/dockerfile-frontend\nLABEL moby.buildkit.frontend.network.none="true"\nLABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"\nENTRYPOINT ["/bin/dockerfile-frontend"]\n' > target/dockerfile-frontend/Dockerfile
	$(ENGINE) docker build -q -t kiln/dockerfile-frontend:dev target/dockerfile-frontend >/dev/null
	@echo "built kiln/dockerfile-frontend:dev"

## bench: frontend image size, cold and cached build times against a plain Dockerfile, then bench-memory and bench-lowering
bench: image dockerfile-frontend
	$(ENGINE) scripts/bench.sh

## bench-lowering: own time and peak RSS of `llb` on a 200-source spec vs one without sources (no engine)
bench-lowering: build
	scripts/bench.sh lowering

## bench-memory: peak RSS of `lint` on the worst specs the alias bound accepts vs hello.yml (no engine)
bench-memory: build
	scripts/bench.sh memory

## lint: formatting and clippy, as CI wants them
lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings

engine:
	scripts/engine.sh up >/dev/null

engine-down:
	scripts/engine.sh down

clean:
	cargo clean

## rpm-standin: the RPM stand-in worker kiln/rpm-standin:dev (a test double on Debian, see
## standin/rpm/Dockerfile), used as --build-context dalec-<key>-worker=docker-image://kiln/rpm-standin:dev
rpm-standin:
	$(ENGINE) docker build -q -t kiln/rpm-standin:dev standin/rpm >/dev/null
	@echo "built kiln/rpm-standin:dev"
