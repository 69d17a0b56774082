package jsplugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tessera/tessera/plugins/sdk"
)

// Limits of what a plugin's poll may answer.
const (
	// MaxPollState is the largest state a poll may return (JSON-encoded).
	MaxPollState = 256 << 10
	// MaxPollItems is the most items one poll may return.
	MaxPollItems = 1000
)

// optionsCap serves index.js's options(operation, param, params, ctx) as sdk.OptionsProvider.
type optionsCap struct{ p *Plugin }

// Options runs options(operation, param, params, ctx); it answers an array of
// {value, label} where label is a string or {"en","zh-CN"} (a plain string value is both).
func (c optionsCap) Options(ctx context.Context, env sdk.Env, operation, param string, params map[string]any) ([]sdk.Option, error) {
	out, err := c.p.invoke(ctx, env, jsCall{kind: "options", operation: operation, param: param, params: params})
	if err != nil {
		return nil, err
	}
	list, ok := out.([]any)
	if !ok && out != nil {
		return nil, fmt.Errorf("plugin %s: options() must return an array of {value, label}", c.p.spec.ID)
	}
	opts := make([]sdk.Option, 0, len(list))
	for i, v := range list {
		switch o := v.(type) {
		case string:
			opts = append(opts, sdk.Option{Value: o, Label: sdk.T(o, o)})
		case map[string]any:
			value, ok := o["value"].(string)
			if !ok {
				return nil, fmt.Errorf("plugin %s: options()[%d].value must be a string", c.p.spec.ID, i)
			}
			label := sdk.T(value, value)
			switch l := o["label"].(type) {
			case string:
				label = sdk.T(l, l)
			case map[string]any:
				en, _ := l["en"].(string)
				zh, _ := l["zh-CN"].(string)
				if en == "" {
					en = zh
				}
				if zh == "" {
					zh = en
				}
				label = sdk.T(en, zh)
			}
			opts = append(opts, sdk.Option{Value: value, Label: label})
		default:
			return nil, fmt.Errorf("plugin %s: options()[%d] must be {value, label} or a string", c.p.spec.ID, i)
		}
	}
	return opts, nil
}

// pollCap serves index.js's poll(ctx, state) as sdk.Poller. ctx has trigger (the trigger id)
// and params (validated, defaulted) besides the usual keys; state is what the previous poll
// returned (null the first time). poll answers {items: [...], state: <any JSON>, ids: [...]}
// (ids optional, one string per item).
type pollCap struct{ p *Plugin }

// Poll implements sdk.Poller.
func (c pollCap) Poll(ctx context.Context, env sdk.Env, trigger string, params map[string]any, state []byte) (sdk.PollResult, error) {
	var prev any
	if len(state) > 0 {
		if err := json.Unmarshal(state, &prev); err != nil {
			return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: reading the saved state: %w", c.p.spec.ID, err))
		}
	}
	out, err := c.p.invoke(ctx, env, jsCall{kind: "poll", trigger: trigger, params: params, state: prev})
	if err != nil {
		return sdk.PollResult{}, err
	}
	id := c.p.spec.ID
	m, ok := out.(map[string]any)
	if !ok {
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: poll() must return {items, state}", id))
	}
	var res sdk.PollResult
	switch items := m["items"].(type) {
	case nil:
	case []any:
		if len(items) > MaxPollItems {
			return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: poll() returned %d items, at most %d", id, len(items), MaxPollItems))
		}
		res.Items = items
	default:
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: poll().items must be an array", id))
	}
	if ids, ok := m["ids"].([]any); ok {
		if len(ids) != len(res.Items) {
			return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: poll().ids must hold one id per item", id))
		}
		for i, v := range ids {
			s, ok := v.(string)
			if !ok {
				return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: poll().ids[%d] must be a string", id, i))
			}
			res.IDs = append(res.IDs, s)
		}
	}
	if st, ok := m["state"]; ok && st != nil {
		b, err := json.Marshal(st)
		if err != nil {
			return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("plugin %s: encoding poll().state: %w", id, err))
		}
		if len(b) > MaxPollState {
			return sdk.PollResult{}, sdk.Permanent(errors.New("plugin " + id + ": poll().state is larger than 256 KiB"))
		}
		res.State = b
	}
	return res, nil
}

// withCapabilities returns p as a connector implementing exactly the optional interfaces its
// manifest lists (sdk.Describe derives the catalog's capabilities from them).
func withCapabilities(p *Plugin, test, options, poll bool) sdk.Connector {
	t, o, q := TestablePlugin{p}, optionsCap{p}, pollCap{p}
	switch {
	case test && options && poll:
		return struct {
			TestablePlugin
			optionsCap
			pollCap
		}{t, o, q}
	case test && options:
		return struct {
			TestablePlugin
			optionsCap
		}{t, o}
	case test && poll:
		return struct {
			TestablePlugin
			pollCap
		}{t, q}
	case options && poll:
		return struct {
			*Plugin
			optionsCap
			pollCap
		}{p, o, q}
	case test:
		return t
	case options:
		return struct {
			*Plugin
			optionsCap
		}{p, o}
	case poll:
		return struct {
			*Plugin
			pollCap
		}{p, q}
	}
	return p
}
