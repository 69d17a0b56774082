package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// MaxSeen is how many item ids the json_items trigger remembers.
const MaxSeen = 5000

var (
	minItems, maxItems = 1.0, 500.0
)

// triggers are the connector's polling triggers.
func triggers() []sdk.Trigger {
	return []sdk.Trigger{{
		ID: "json_items", Label: sdk.T("New items in a JSON list", "JSON 列表中的新条目"),
		Description: sdk.T("GETs a URL that answers a JSON list (an array, or an object holding one) and starts one run per item not seen before, oldest first. The first poll only remembers what is there, unless \"Start runs for existing items\" is on.",
			"定期 GET 一个返回 JSON 列表的地址（数组或包含数组的对象），每个新条目启动一次运行，按从旧到新。首次轮询只记录已有条目，除非开启“为已有条目启动运行”。"),
		Params: []sdk.Param{
			{Key: "url", Type: sdk.TypeString, Label: sdk.T("URL", "地址"), Required: true, Placeholder: "https://api.example.com/v1/orders?status=new",
				Help: sdk.T("Relative URLs are resolved against the credential's base URL.", "相对地址基于凭据的基础地址解析。")},
			{Key: "query", Type: sdk.TypeJSON, Label: sdk.T("Query parameters", "查询参数"), Help: sdk.T(`An object, e.g. {"page_size": 50}.`, `对象，例如 {"page_size": 50}。`)},
			{Key: "headers", Type: sdk.TypeJSON, Label: sdk.T("Headers", "请求头"), Help: sdk.T(`An object, e.g. {"Accept": "application/json"}.`, `对象，例如 {"Accept": "application/json"}。`)},
			{Key: "items_path", Type: sdk.TypeString, Label: sdk.T("Path to the list", "列表路径"), Placeholder: "data.items",
				Help: sdk.T("Dotted path to the array in the answer; empty when the answer is the array.", "响应中数组的路径（以点分隔）；响应本身是数组时留空。")},
			{Key: "id_field", Type: sdk.TypeString, Label: sdk.T("Id field", "ID 字段"), Default: "id",
				Help: sdk.T("Dotted path to each item's unique id. Items without it are told apart by their content.", "每个条目唯一 ID 的路径。没有该字段的条目按内容区分。")},
			{Key: "order", Type: sdk.TypeSelect, Label: sdk.T("List order", "列表顺序"), Default: "newest_first", Options: []sdk.Option{
				{Value: "newest_first", Label: sdk.T("Newest first", "最新在前")}, {Value: "oldest_first", Label: sdk.T("Oldest first", "最早在前")}}},
			{Key: "max_items", Type: sdk.TypeNumber, Label: sdk.T("Most items per poll", "每次最多条目"), Default: 100.0, Min: &minItems, Max: &maxItems,
				Help: sdk.T("More new items wait for the next poll.", "超出的新条目留到下次轮询。")},
			{Key: "emit_existing", Type: sdk.TypeBoolean, Label: sdk.T("Start runs for existing items", "为已有条目启动运行"), Default: false},
			{Key: "timeout", Type: sdk.TypeNumber, Label: sdk.T("Timeout (seconds)", "超时（秒）"), Default: 30.0, Min: &minTimout, Max: &maxTimout},
		},
		Output: []sdk.OutputField{{Key: "item", Type: "any", Label: sdk.T("The item (trigger.item)", "条目（trigger.item）")}},
	}}
}

// pollState is the json_items cursor: the ids of the items seen, newest last.
type pollState struct {
	Seen []string `json:"seen"`
}

// Poll implements sdk.Poller.
func (Connector) Poll(ctx context.Context, env sdk.Env, trigger string, p map[string]any, state []byte) (sdk.PollResult, error) {
	if trigger != "json_items" {
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("unknown trigger %q", trigger))
	}
	var st pollState
	first := len(state) == 0
	if !first {
		if err := json.Unmarshal(state, &st); err != nil {
			return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("reading the saved state: %w", err))
		}
	}
	list, err := fetchList(ctx, env, p)
	if err != nil {
		return sdk.PollResult{}, err
	}
	if sdk.String(p, "order") != "oldest_first" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	idField := sdk.String(p, "id_field")
	ids := make([]string, len(list))
	for i, item := range list {
		ids[i] = itemID(item, idField)
	}
	seen := make(map[string]bool, len(st.Seen))
	for _, id := range st.Seen {
		seen[id] = true
	}
	limit := int(sdk.Number(p, "max_items"))
	var res sdk.PollResult
	emit := !first || sdk.Bool(p, "emit_existing")
	held := map[string]bool{} // new items left for the next poll
	for i, item := range list {
		if seen[ids[i]] {
			continue
		}
		if !emit {
			continue
		}
		if len(res.Items) >= limit {
			held[ids[i]] = true
			continue
		}
		seen[ids[i]] = true
		res.Items = append(res.Items, item)
		res.IDs = append(res.IDs, ids[i])
	}
	// remember every id of this answer (minus the held ones), then the older ones, newest last
	next := make([]string, 0, len(list))
	inAnswer := map[string]bool{}
	for _, id := range ids {
		if !held[id] && !inAnswer[id] {
			inAnswer[id] = true
			next = append(next, id)
		}
	}
	var older []string
	for _, id := range st.Seen {
		if !inAnswer[id] {
			older = append(older, id)
		}
	}
	next = append(older, next...)
	if len(next) > MaxSeen {
		next = next[len(next)-MaxSeen:]
	}
	if res.State, err = json.Marshal(pollState{Seen: next}); err != nil {
		return sdk.PollResult{}, err
	}
	env.Log().Info("http poll", "items", len(list), "new", len(res.Items), "held", len(held))
	return res, nil
}

// fetchList GETs the URL and returns the array at items_path.
func fetchList(ctx context.Context, env sdk.Env, p map[string]any) ([]any, error) {
	target, err := requestURL(env, p)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(sdk.Number(p, "timeout") * float64(time.Second))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("building request: %w", err))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Tessera/1 (+connector http poll)")
	for k, v := range sdk.StringMap(p, "headers") {
		req.Header.Set(k, v)
	}
	if err := checkAuthOrigin(env, target); err != nil {
		return nil, err
	}
	if err := applyAuth(req, env); err != nil {
		return nil, err
	}
	redact := redactor(env)
	resp, err := guardAuthOnRedirect(env, env.Client()).Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, sdk.Temporary(fmt.Errorf("GET %s: timed out after %s", redact(target), timeout))
		}
		return nil, sdk.Temporary(fmt.Errorf("GET %s: %w", redact(target), sdk.StripURL(err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, sdk.Temporary(fmt.Errorf("reading response: %w", err))
	}
	if len(raw) > MaxResponse {
		return nil, sdk.Permanent(fmt.Errorf("response is larger than %d bytes", MaxResponse))
	}
	if resp.StatusCode >= 400 {
		return nil, sdk.StatusError("GET "+redact(target), resp.StatusCode, string(raw))
	}
	var body any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("GET %s: the answer is not JSON: %w", redact(target), err))
	}
	path := strings.TrimSpace(sdk.String(p, "items_path"))
	v, ok := lookup(body, path)
	list, isList := v.([]any)
	if !ok || !isList {
		where := "the answer"
		if path != "" {
			where = "items_path " + path
		}
		return nil, sdk.Permanent(fmt.Errorf("%s is not a JSON array (found %s)", where, kind(v, ok)))
	}
	return list, nil
}

// lookup follows a dotted path (object keys, array indexes) into v.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func kind(v any, ok bool) string {
	switch v.(type) {
	case nil:
		if !ok {
			return "nothing"
		}
		return "null"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "another value"
}

// itemID is the item's id at field, or "sha256:<hash of its JSON>" when it has none.
func itemID(item any, field string) string {
	if field != "" {
		if v, ok := lookup(item, field); ok {
			switch id := v.(type) {
			case string:
				if id != "" {
					return id
				}
			case float64:
				return strconv.FormatFloat(id, 'f', -1, 64)
			}
		}
	}
	b, _ := json.Marshal(item)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}
