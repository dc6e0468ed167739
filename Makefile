# The README's main job: build a demo server and export its registry.
.PHONY: demo test
DEMO_DIR ?= demo-out

demo:
	cargo build --release --bin transit
	rm -rf $(DEMO_DIR)
	./target/release/transit --server-root $(DEMO_DIR)/server server demo \
	  --name CIC01 --site-name Indianapolis --site-id 1 --release "2015 R1" --users 1000
	./target/release/transit --server-root $(DEMO_DIR)/server registry export \
	  --output $(DEMO_DIR)/CIC01.reg
	@echo "demo server in $(DEMO_DIR)/server, registry export in $(DEMO_DIR)/CIC01.reg"

test:
	cargo test --workspace
