# The README's main job: build a demo server, export it to a migration file,
# and import that file into a second demo server of a later release (2015 R1 →
# 2018 R1, as a real migration does), printing the import report.
.PHONY: demo test
DEMO_DIR ?= demo-out

demo:
	cargo build --release --bin transit
	rm -rf $(DEMO_DIR)
	./target/release/transit --server-root $(DEMO_DIR)/server server demo \
	  --name CIC01 --site-name Indianapolis --site-id 1 --release "2015 R1" --users 1000
	./target/release/transit --server-root $(DEMO_DIR)/server registry export \
	  --output $(DEMO_DIR)/CIC01.reg
	# The target runs 2018 R1: install its Migrator on the source first, as the vendor says.
	./target/release/transit --server-root $(DEMO_DIR)/server migrator install --release "2018 R1"
	printf 'demo-password\n' > $(DEMO_DIR)/password.txt
	./target/release/transit --server-root $(DEMO_DIR)/server export \
	  --folder $(DEMO_DIR)/exports --password-file $(DEMO_DIR)/password.txt
	./target/release/transit inspect $(DEMO_DIR)/exports/*.ininmigr --password-file $(DEMO_DIR)/password.txt
	./target/release/transit --server-root $(DEMO_DIR)/target server demo \
	  --name CIC02 --site-name Paris --site-id 2 --release "2018 R1" --users 200 --seed 2
	./target/release/transit --server-root $(DEMO_DIR)/target import $(DEMO_DIR)/exports/*.ininmigr \
	  --extract-to $(DEMO_DIR)/extracted --password-file $(DEMO_DIR)/password.txt
	@echo "source server in $(DEMO_DIR)/server, target in $(DEMO_DIR)/target; report in $(DEMO_DIR)/extracted/import-report.txt"

test:
	cargo test --workspace
