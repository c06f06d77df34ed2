# The two commands of the README: `make demo` and `make test`. Both start from nothing:
# scripts/engine.sh makes sure a Docker engine answers (installing and starting one as root
# on Debian/Ubuntu), scripts/venv.sh installs conu and its test tools into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
WORKERS ?= 2

.PHONY: all engine podman venv demo test test-remote test-k8s cluster lint typecheck docs unit integration bench clean

all: test

engine:
	@bash scripts/engine.sh

venv:
	@VENV=$(VENV) bash scripts/venv.sh

# The main job: build the sample image, then validate it with its container-structure-test file.
demo: engine venv
	$(PY) scripts/images.py examples/sample-image conu-example/sample:latest
	$(VENV)/bin/conu validate --image conu-example/sample --config examples/sample.cst.yaml

lint: venv
	$(VENV)/bin/ruff check conu tests examples scripts bench docs
	$(VENV)/bin/ruff format --check conu tests examples scripts bench docs

typecheck: venv
	$(VENV)/bin/mypy conu tests/plugins/conu-fakebackend/conu_fakebackend
	MYPYPATH=docs/_ext $(VENV)/bin/mypy -p conu_docs

# The documentation site (docs/), warnings as errors, into docs/_build/html. The backend
# reference pages are generated from the code at every build; intersphinx reads local
# inventories that scripts/docs-deps.sh installs (Python's) or builds once (the docker SDK's).
docs: venv
	@VENV=$(VENV) bash scripts/docs-deps.sh
	$(PY) -m sphinx -b html -W --keep-going -q -d docs/_build/doctrees docs docs/_build/html

unit: venv
	$(PY) -m pytest -p no:cacheprovider -q tests/unit $(PYTEST_ARGS)

integration: engine venv
	$(PY) -m pytest -p no:cacheprovider -q tests/integration $(PYTEST_ARGS)

podman: engine
	@bash scripts/podman.sh

# The conformance suite shipped in conu, run from outside the repository against a backend.
conformance-%: venv
	@dir=$$(mktemp -d); cd "$$dir" && $(abspath $(PY)) -m pytest -p no:cacheprovider -q \
		--pyargs conu.conformance --conu-backend=$* $(PYTEST_ARGS); \
		status=$$?; rm -rf "$$dir"; exit $$status

# The conformance suite against the in-memory engine of tests/plugins/conu-fakebackend, a
# third-party package installed (from a copy of its sources) into a folder of its own.
conformance-fake: venv
	@dir=$$(mktemp -d); cp -r tests/plugins/conu-fakebackend "$$dir/src" && \
	$(abspath $(PY)) -m pip install -q --disable-pip-version-check --no-deps \
		--no-build-isolation --target "$$dir/site" "$$dir/src" && \
	cd "$$dir" && PYTHONPATH="$$dir/site" $(abspath $(PY)) -m pytest -p no:cacheprovider -q \
		--pyargs conu.conformance --conu-backend=fake $(PYTEST_ARGS); \
		status=$$?; rm -rf "$$dir"; exit $$status

# Two pytest-xdist workers: each is a conu session of its own (see README, "Cleanup").
# Then the conformance suite against both backends and the in-memory one.
test: engine podman venv lint typecheck docs
	$(PY) -m pytest -p no:cacheprovider -q -n $(WORKERS) tests examples --ignore=tests/faults \
		--ignore=tests/k8s $(PYTEST_ARGS)
	$(MAKE) --no-print-directory conformance-docker conformance-podman conformance-fake

# The integration suite against a second engine that is reachable only over TCP with TLS, from
# a network namespace of its own (scripts/remote-engine.sh), then the engine-fault tests that
# freeze and restart that engine. The registry tests' registry listens on the host's end of
# the link (10.213.0.1), which that engine treats as an insecure registry. Left out: Podman's
# tests, and test_image_layers.py (reading a local engine's overlay2 layers; with this engine
# the file checks ask helper containers, which test_image_files.py checks).
test-remote: engine venv
	@exports=$$(bash scripts/remote-engine.sh start) || exit 1; eval "$$exports"; status=0; \
	CONU_TEST_REGISTRY_HOST=10.213.0.1 $(PY) -m pytest -p no:cacheprovider -q -rs \
		-n $(WORKERS) tests/integration --ignore=tests/integration/test_podman.py \
		--ignore=tests/integration/test_podman_engine.py \
		--ignore=tests/integration/test_image_layers.py $(PYTEST_ARGS) || status=$$?; \
	if [ $$status = 0 ]; then \
		CONU_REMOTE_FAULTS=1 $(PY) -m pytest -p no:cacheprovider -q tests/faults || status=$$?; \
	fi; \
	bash scripts/remote-engine.sh stop; exit $$status

# The Kubernetes backend on a real single-node cluster (scripts/cluster.sh: built from Debian's
# kubernetes source the first time, cached after). The conformance image is pushed to the
# cluster's loopback registry; then the cluster's own tests and the conformance suite run
# against it, and at the end no namespace (pod, deployment, service) of a conu session may be
# left. A cluster this target started is stopped again; one that ran before is kept.
K8S_IMAGE ?= 127.0.0.1:5001/conu-conformance/busybox:latest
test-k8s: engine venv
	@running=0; bash scripts/cluster.sh status >/dev/null 2>&1 && running=1; \
	exports=$$(bash scripts/cluster.sh start) || exit 1; eval "$$exports"; status=0; \
	$(PY) scripts/k8s.py push conu/conformance/images/busybox $(K8S_IMAGE) && \
	CONU_K8S_TEST_IMAGE=$(K8S_IMAGE) $(PY) -m pytest -p no:cacheprovider -q -rs tests/k8s \
		$(PYTEST_ARGS) && \
	$(MAKE) --no-print-directory conformance-kubernetes \
		PYTEST_ARGS="--conu-test-image=$(K8S_IMAGE) $(PYTEST_ARGS)" || status=$$?; \
	$(PY) scripts/k8s.py leftovers 120 || status=1; \
	[ $$running = 1 ] || bash scripts/cluster.sh stop; exit $$status

# Start (or check) the cluster and print its `export KUBECONFIG=...` line.
cluster:
	@bash scripts/cluster.sh start

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache

# Not part of `make test`: conu against the raw docker SDK (see bench/README.md).
bench: engine venv
	$(PY) bench/run.py $(BENCH_ARGS)
