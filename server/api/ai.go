package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/problem"
)

// hostRecords is the sdk.RecordReader the server gives connectors: it reads as the flow's
// identity (a user's grant; the service identity sees every row but not the fields any role of
// the app hides), so a field the identity may not read never reaches a connector.
type hostRecords struct {
	s   *Server
	app *defs.App
	sub access.Subject
}

// recordReader returns the record reader of appID for sub (nil when the app cannot be loaded).
func (s *Server) recordReader(ctx context.Context, appID uuid.UUID, sub access.Subject) sdk.RecordReader {
	app, err := s.Defs.AppByID(ctx, appID)
	if err != nil || s.Records == nil {
		return nil
	}
	return &hostRecords{s: s, app: app, sub: sub}
}

func notFound(what string) error {
	return sdk.Permanent(fmt.Errorf("%s not found or not readable by the flow's identity / %s 不存在或流程身份无权读取", what, what))
}

// grant is the identity's read grant on entity; not allowed -> not found.
func (h *hostRecords) grant(ctx context.Context, entity string) (access.Grant, error) {
	if h.sub.System {
		g := access.All()
		if h.s.Policies != nil {
			hidden, err := h.s.Policies.HiddenByAnyRole(h.app.ID, entity)
			if err != nil {
				return g, err
			}
			if len(hidden) > 0 {
				g.Hidden = hidden
			}
		}
		return g, nil
	}
	g, err := h.s.Authz.Grant(ctx, h.sub, h.app.ID, "entity:"+entity, "read")
	if err != nil {
		return g, fmt.Errorf("checking read on %s: %w", entity, err)
	}
	if !g.Allowed() {
		return g, notFound("entity " + entity)
	}
	return g, nil
}

func sdkText(l spec.Label, fallback string) sdk.Text {
	t := sdk.Text{En: l["en"], ZhCN: l["zh-CN"]}
	if t.En == "" {
		t.En = t.ZhCN
	}
	if t.En == "" {
		t.En = fallback
	}
	return t
}

func (h *hostRecords) entity(ctx context.Context, slug string) (*spec.Entity, access.Grant, error) {
	ent, _, err := h.s.Defs.Entity(ctx, h.app.ID, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, access.Grant{}, notFound("entity " + slug)
	}
	if err != nil {
		return nil, access.Grant{}, err
	}
	g, err := h.grant(ctx, slug)
	return ent, g, err
}

// Entity implements sdk.RecordReader.
func (h *hostRecords) Entity(ctx context.Context, slug string) (sdk.EntityInfo, error) {
	ent, g, err := h.entity(ctx, slug)
	if err != nil {
		return sdk.EntityInfo{}, err
	}
	return entityInfo(ent, g), nil
}

func entityInfo(ent *spec.Entity, g access.Grant) sdk.EntityInfo {
	out := sdk.EntityInfo{Slug: ent.Slug, Label: sdkText(ent.Label, ent.Slug), Fields: []sdk.FieldInfo{}}
	for _, f := range ent.Fields {
		if g.Hidden[f.Key] {
			continue
		}
		fi := sdk.FieldInfo{Key: f.Key, Type: f.Type, Label: sdkText(f.Label, f.Key), Required: f.Required, Multiple: f.Multiple, Target: f.Target}
		for _, o := range f.Options {
			fi.Options = append(fi.Options, o.Value)
		}
		out.Fields = append(out.Fields, fi)
	}
	return out
}

// Entities lists the published entities the identity may read (the property form's choices).
func (h *hostRecords) Entities(ctx context.Context) ([]sdk.EntityInfo, error) {
	slugs, err := h.s.Defs.PublishedSlugs(ctx, h.app.ID, spec.KindEntity)
	if err != nil {
		return nil, err
	}
	out := []sdk.EntityInfo{}
	for _, slug := range slugs {
		if e, err := h.Entity(ctx, slug); err == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Record implements sdk.RecordReader: the record, its history and related records, each read
// through runtime/records with the identity's grant (row scope in SQL, hidden fields removed).
func (h *hostRecords) Record(ctx context.Context, entity, id string, o sdk.RecordOptions) (sdk.RecordView, error) {
	_, g, err := h.entity(ctx, entity)
	if err != nil {
		return sdk.RecordView{}, err
	}
	rid, err := uuid.Parse(id)
	if err != nil {
		return sdk.RecordView{}, notFound("record " + id)
	}
	rec, err := h.s.Records.Get(ctx, h.app, entity, rid, g)
	if errors.Is(err, records.ErrNotFound) {
		return sdk.RecordView{}, notFound("record " + id)
	}
	if err != nil {
		return sdk.RecordView{}, err
	}
	v := sdk.RecordView{ID: rec.ID.String(), Entity: entity, Data: rec.Data, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt}
	if o.History {
		max := o.MaxEvents
		if max <= 0 {
			max = 20
		}
		evs, err := h.s.Records.History(ctx, h.app, entity, rid, g)
		if err != nil {
			return v, err
		}
		for i := len(evs) - 1; i >= 0 && len(v.History) < max; i-- {
			v.History = append(v.History, sdk.RecordEvent{At: evs[i].At, Kind: evs[i].Kind, Changes: evs[i].Changes})
		}
	}
	if o.Related {
		max := o.MaxRelated
		if max <= 0 {
			max = 10
		}
		v.Related, err = h.related(ctx, entity, rec, max)
		if err != nil {
			return v, err
		}
	}
	return v, nil
}

// related reads the records rec links to and the records linking to rec, each only when the
// identity may read it.
func (h *hostRecords) related(ctx context.Context, entity string, rec *records.Record, max int) ([]sdk.RelatedRecord, error) {
	out := []sdk.RelatedRecord{}
	ent, _, err := h.s.Defs.Entity(ctx, h.app.ID, entity)
	if err != nil {
		return nil, err
	}
	for _, f := range ent.Fields {
		if f.Type != spec.TypeRelation || f.Target == "" || rec.Data[f.Key] == nil || len(out) >= max {
			continue
		}
		g, err := h.grant(ctx, f.Target)
		if err != nil {
			continue // not readable: left out
		}
		for _, id := range relationIDs(rec.Data[f.Key]) {
			if len(out) >= max {
				break
			}
			rid, err := uuid.Parse(id)
			if err != nil {
				continue
			}
			if r, err := h.s.Records.Get(ctx, h.app, f.Target, rid, g); err == nil {
				out = append(out, sdk.RelatedRecord{Entity: f.Target, ID: id, Field: f.Key, Links: "to", Data: r.Data})
			}
		}
	}
	slugs, err := h.s.Defs.PublishedSlugs(ctx, h.app.ID, spec.KindEntity)
	if err != nil {
		return nil, err
	}
	for _, slug := range slugs {
		if len(out) >= max {
			break
		}
		other, _, err := h.s.Defs.Entity(ctx, h.app.ID, slug)
		if err != nil {
			continue
		}
		for _, f := range other.Fields {
			if f.Type != spec.TypeRelation || f.Target != entity || len(out) >= max {
				continue
			}
			g, err := h.grant(ctx, slug)
			if err != nil || g.Hidden[f.Key] {
				continue
			}
			op := "eq"
			if f.Multiple {
				op = "contains"
			}
			flt, _ := json.Marshal(map[string]any{f.Key: map[string]any{op: rec.ID.String()}})
			page, err := h.s.Records.List(ctx, h.app, slug, records.ListQuery{Filter: flt, Sort: "-created_at", Limit: max - len(out)}, g)
			if err != nil {
				continue
			}
			for _, r := range page.Items {
				out = append(out, sdk.RelatedRecord{Entity: slug, ID: r.ID.String(), Field: f.Key, Links: "from", Data: r.Data})
			}
		}
	}
	return out, nil
}

// relationIDs reads a relation value: an id, a list of ids or of {"id"} objects.
func relationIDs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]any:
		if id, ok := x["id"].(string); ok {
			return []string{id}
		}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, relationIDs(e)...)
		}
		return out
	}
	return nil
}

// ---- AI usage ----

func (s *Server) mountAI() error {
	s.route("GET", "/api/v1/apps/:app/ai/usage", "ai",
		"Token usage and estimated cost of the app's AI steps (query: run, from, to), by currency, flow and model.", s.aiUsage)
	return nil
}

// usageRow is one sum of AI steps.
type usageRow struct {
	Flow             string  `json:"flow,omitempty"`
	Model            string  `json:"model,omitempty"`
	Currency         string  `json:"currency"`
	Steps            int64   `json:"steps"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	TotalTokens      int64   `json:"total_tokens"`
	Cost             float64 `json:"cost"`
}

// aiUsage sums the usage and cost recorded on the app's succeeded AI steps: in total (one row
// per currency), by flow and by model; ?run= narrows to one run, from/to to a period.
func (s *Server) aiUsage(c *fiber.Ctx) error {
	_, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	args := []any{app.ID}
	where := `r.app_id = $1 AND st.status = 'succeeded' AND st.input->>'connector' = 'ai' AND jsonb_typeof(st.output->'usage') = 'object'`
	if run := c.Query("run"); run != "" {
		id, err := uuid.Parse(run)
		if err != nil {
			return problem.Validation(specErrors("run", "invalid", "run must be a run id / run 须为运行 ID"))
		}
		args = append(args, id)
		where += fmt.Sprintf(" AND r.id = $%d", len(args))
	}
	for _, b := range []struct{ name, op string }{{"from", ">="}, {"to", "<"}} {
		if v := c.Query(b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if t, err = time.Parse("2006-01-02", v); err != nil {
					return problem.Validation(specErrors(b.name, "invalid", b.name+" must be a date or an RFC 3339 time / "+b.name+" 须为日期或 RFC 3339 时间"))
				}
			}
			args = append(args, t)
			where += fmt.Sprintf(" AND st.started_at %s $%d", b.op, len(args))
		}
	}
	q := func(group string) ([]usageRow, error) {
		sel := "''"
		if group != "" {
			sel = group
		}
		rows, err := s.DB.Pool.Query(c.UserContext(), `SELECT `+sel+`, coalesce(st.output->'cost'->>'currency', ''), count(*),
			coalesce(sum((st.output->'usage'->>'prompt_tokens')::bigint), 0), coalesce(sum((st.output->'usage'->>'completion_tokens')::bigint), 0),
			coalesce(sum((st.output->'usage'->>'total_tokens')::bigint), 0), coalesce(sum((st.output->'cost'->>'amount')::float8), 0)
			FROM flow_steps st JOIN flow_runs r ON r.id = st.run_id WHERE `+where+` GROUP BY 1, 2 ORDER BY 1, 2`, args...)
		if err != nil {
			return nil, fmt.Errorf("summing AI usage: %w", err)
		}
		defer rows.Close()
		out := []usageRow{}
		for rows.Next() {
			var u usageRow
			var key string
			if err := rows.Scan(&key, &u.Currency, &u.Steps, &u.PromptTokens, &u.CompletionTokens, &u.TotalTokens, &u.Cost); err != nil {
				return nil, fmt.Errorf("summing AI usage: %w", err)
			}
			switch group {
			case "r.flow":
				u.Flow = key
			case "coalesce(st.output->>'model', '')":
				u.Model = key
			}
			out = append(out, u)
		}
		return out, rows.Err()
	}
	total, err := q("")
	if err != nil {
		return err
	}
	byFlow, err := q("r.flow")
	if err != nil {
		return err
	}
	byModel, err := q("coalesce(st.output->>'model', '')")
	if err != nil {
		return err
	}
	sort.SliceStable(byFlow, func(i, j int) bool { return byFlow[i].TotalTokens > byFlow[j].TotalTokens })
	return c.JSON(fiber.Map{"total": total, "by_flow": byFlow, "by_model": byModel})
}
