-- +goose Up
-- A node re-run from the flow designer ("run from this node") is a test run of its own with
-- one step: the node worked again on the input it had in an earlier run (rerun_of), with the
-- draft's configuration of that node (rerun_node).
ALTER TABLE flow_runs ADD COLUMN rerun_of uuid REFERENCES flow_runs(id) ON DELETE SET NULL;
ALTER TABLE flow_runs ADD COLUMN rerun_node text;

-- +goose Down
ALTER TABLE flow_runs DROP COLUMN rerun_of, DROP COLUMN rerun_node;
