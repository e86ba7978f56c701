"""The pieces of the load-test runner (loadtest/run.py), one job a module:

- paths: where the suite's files, binaries and outputs are;
- tollgate_defaults: Tollgate's own defaults the runner relies on, copied
  from the Rust code and Terraform;
- profiles: what the smoke and full profiles run, and the revocation bound;
- host: the machine (its load and description) and the runner's log line;
- binaries: the tollgate and authorizer binaries, and each authorizer's command;
- stack: a local stack (`tollgate serve`) on a free loopback port;
- k6: one k6 run, and how long it may take;
- summary: summary.json's rows, details.json's entries and the printed table;
- local: every run against local stacks;
- deployed: every run against a deployed API (BASE_URL).
"""
