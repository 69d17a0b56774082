package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
)

// Tracker makes the signed tracking links of tracking_link nodes (the server wires one that
// serves them at /t/{token}).
type Tracker interface {
	// TrackingURL answers the public URL and token that add an activity of type typ to the
	// record when fetched.
	TrackingURL(app uuid.UUID, entity string, record uuid.UUID, typ string) (url, token string)
}

// SetTracker wires the tracking link signer.
func (e *Engine) SetTracker(t Tracker) { e.opts.Tracker = t }

func init() {
	Register(NodeType{Name: "tracking_link", Category: "records", Label: spec.Label{"en": "Tracking link", "zh-CN": "追踪链接"},
		Params: paramsOf("tracking_link"),
		New:    newTrackingNode})
}

var trackingTypeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

type trackingNode struct {
	entity, typ string
	record      Value
}

func newTrackingNode(p *Params) (Runner, spec.Errors) {
	var v struct {
		Entity string          `json:"entity"`
		Record json.RawMessage `json:"record"`
		Type   string          `json:"type"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &trackingNode{entity: v.Entity, typ: v.Type}
	if !trackingTypeRe.MatchString(v.Type) {
		p.Errorf("type", "invalid", "type must be 1-64 characters of a-z, 0-9, '_', '.' and '-' (e.g. email_opened)")
	}
	if len(v.Record) > 0 {
		n.record = p.Value("record", v.Record)
	}
	return n, p.Errors()
}

func (n *trackingNode) Exec(x *Exec) (Result, error) {
	t := x.Engine.opts.Tracker
	if t == nil {
		return Result{}, Permanent(errors.New("tracking links are not available"))
	}
	trig, _ := x.Env["trigger"].(map[string]any)
	entity := n.entity
	if entity == "" {
		entity, _ = trig["entity"].(string)
	}
	var id *uuid.UUID
	var err error
	if n.record != nil {
		if id, err = optionalID(n.record, x.Env); err != nil {
			return Result{}, Permanent(err)
		}
	} else if rec, ok := trig["record"].(map[string]any); ok {
		if u, perr := uuid.Parse(fmt.Sprint(rec["id"])); perr == nil {
			id = &u
		}
	}
	if entity == "" || id == nil {
		return Result{}, Permanent(errors.New("tracking_link needs a record and its entity (or a record trigger) / 追踪链接需要记录及其实体"))
	}
	url, token := t.TrackingURL(x.AppID, entity, *id, n.typ)
	pixel := `<img src="` + html.EscapeString(url) + `" width="1" height="1" alt="" style="display:none">`
	return Result{Output: map[string]any{"url": url, "token": token, "pixel": pixel}}, nil
}
