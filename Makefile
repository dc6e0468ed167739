# The README's main job: build a demo server, export its registry, then export it to a migration file.
.PHONY: demo test
DEMO_DIR ?= demo-out

demo:
	cargo build --release --bin transit
	rm -rf $(DEMO_DIR)
	./target/release/transit --server-root $(DEMO_DIR)/server server demo \
	  --name CIC01 --site-name Indianapolis --site-id 1 --release "2015 R1" --users 1000
	./target/release/transit --server-root $(DEMO_DIR)/server registry export \
	  --output $(DEMO_DIR)/CIC01.reg
	printf 'demo-password\n' > $(DEMO_DIR)/password.txt
	./target/release/transit --server-root $(DEMO_DIR)/server export \
	  --folder $(DEMO_DIR)/exports --password-file $(DEMO_DIR)/password.txt
	./target/release/transit inspect $(DEMO_DIR)/exports/*.ininmigr --password-file $(DEMO_DIR)/password.txt
	@echo "demo server in $(DEMO_DIR)/server; registry in $(DEMO_DIR)/CIC01.reg; migration file in $(DEMO_DIR)/exports"

test:
	cargo test --workspace
