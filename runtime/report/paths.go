package report

import (
	"fmt"
	"strings"
)

// Stage reports over the entity's own stage field read the stage path every record carries
// (records.stage_path: the stages it went through, in order; records.stage_in: when it entered
// each), which the records service extends in the same statement that changes the stage (see
// migrations/00060_stage_paths.sql). One scan of the records answers what otherwise needs a
// join with the whole stage history. A record without a path (written before stage tracking)
// counts as sitting in its current stage since its creation.

// pathSQL is the stage path of r and the entry times, with the fallback for records without a path.
func (s *stageSetup) pathSQL() (path, in string) {
	return fmt.Sprintf("coalesce(r.stage_path, ARRAY[%s])", s.expr), "coalesce(r.stage_in, ARRAY[r.created_at])"
}

// funnelFromPaths: per dimension tuple and furthest stage index reached (the highest position
// in the order of any stage on the path, or of the current stage), the number of records.
// The records are first counted per dimension tuple, path and current stage: the planner
// knows from the grouping statistics (see provisionStatistics) that these are few, so it
// picks a parallel hash aggregate; the furthest stage is then worked out once per group
// instead of once per record. The CASE chain tests the stages from the last one down.
func (b *builder) funnelFromPaths(s *stageSetup, dims []*dim, where, sa string) (string, []Column, []valKind) {
	var cases []string
	for i := len(s.order) - 1; i >= 0; i-- {
		cases = append(cases, fmt.Sprintf("WHEN %s = ANY(g._path) THEN %d", b.arg(s.order[i]), i+1))
	}
	reach := "CASE WHEN g._path IS NULL THEN 0 " + strings.Join(cases, " ") + " ELSE 0 END"
	inner, dcols, dkinds := dimSelect(dims, "")
	n := len(inner)
	inner = append(inner, "r.stage_path AS _path", s.expr+" AS _cur", "count(*) AS n")
	outer, _, _ := dimSelect(dims, "g")
	outer = append(outer, fmt.Sprintf("greatest(%s, coalesce(array_position(%s, g._cur), 0)) AS idx", reach, sa), "sum(g.n)::bigint AS n")
	sql := "SELECT " + strings.Join(outer, ", ") + "\nFROM (\nSELECT " + strings.Join(inner, ", ") + "\nFROM records r" + b.joinSQL() + "\nWHERE " + where +
		"\nGROUP BY " + ordinals(1, n+2) + "\n) g\nGROUP BY " + ordinals(1, n+1)
	return sql, dcols, dkinds
}

// staysFromPaths is the CTE "s" of every stay of the visible records: stage, entered and
// left_at (NULL for the current stay), with the dims as d<i>/d<i>_name and extra columns.
// withoutPath counts records without a path as one stay (only needed when open stays count). The
// set-returning calls run in lockstep, and the shorter "left" array ends one early, which
// leaves the current stay open.
func (b *builder) staysFromPaths(s *stageSetup, dims []*dim, where string, withoutPath bool, extra ...string) string {
	path, in := "r.stage_path", "r.stage_in"
	if withoutPath {
		path, in = s.pathSQL()
	}
	sel, _, _ := dimSelect(dims, "")
	sel = append(append(sel, extra...),
		"unnest("+path+") AS stage", "unnest("+in+") AS entered", "unnest(("+in+")[2:]) AS left_at")
	return "s AS (\nSELECT " + strings.Join(sel, ", ") + "\nFROM records r" + b.joinSQL() + "\nWHERE " + where + "\n)"
}
