package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// modelsTimeout bounds the provider's model listing while an analyst edits a node.
const modelsTimeout = 5 * time.Second

// modelOptions lists the models a step may choose for the credential in env: the credential's
// default model, the provider's priced models, and the models the service itself lists at
// GET <base URL>/models (OpenAI-compatible). The service is asked through the guarded client
// and briefly; when it cannot be reached (no network, not allow-listed, a bad key) the known
// models are still offered. A model's label shows its price per million tokens when known.
func modelOptions(ctx context.Context, env sdk.Env) []sdk.Option {
	s, err := resolve(env, nil)
	if err != nil {
		return []sdk.Option{}
	}
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	add(s.model)
	priced := make([]string, 0, len(s.prices))
	for m := range s.prices {
		priced = append(priced, m)
	}
	sort.Strings(priced)
	for _, m := range priced {
		add(m)
	}
	listed := listModels(ctx, env, s)
	sort.Strings(listed)
	for _, m := range listed {
		add(m)
	}
	out := make([]sdk.Option, 0, len(ids))
	for _, id := range ids {
		label := sdk.T(id, id)
		if pr, ok := s.prices[id]; ok {
			label = sdk.T(fmt.Sprintf("%s (%g / %g %s per million tokens in / out)", id, pr.Input, pr.Output, pr.Currency),
				fmt.Sprintf("%s（每百万 token 输入 %g / 输出 %g %s）", id, pr.Input, pr.Output, pr.Currency))
		}
		if id == s.model {
			label.En += " — default"
			label.ZhCN += " — 默认"
		}
		out = append(out, sdk.Option{Value: id, Label: label})
	}
	return out
}

// listModels asks the service for its models; nil when it does not answer in time or usefully.
func listModels(ctx context.Context, env sdk.Env, s settings) []string {
	ctx, cancel := context.WithTimeout(ctx, modelsTimeout)
	defer cancel()
	u := strings.TrimSuffix(s.endpoint, "/chat/completions") + "/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil
	}
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	res, err := env.Client().Do(req)
	if err != nil {
		env.Log().Info("listing the AI provider's models failed; offering the known ones", "error", sdk.StripURL(err))
		return nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil
	}
	var body struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&body) != nil {
		return nil
	}
	out := make([]string, 0, len(body.Data))
	for _, m := range body.Data {
		if len(out) < 500 && m.ID != "" {
			out = append(out, m.ID)
		}
	}
	return out
}
