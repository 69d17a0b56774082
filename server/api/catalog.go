package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	_ "github.com/tessera/tessera/plugins/all" // built-in connectors
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/netguard"
	"github.com/tessera/tessera/runtime/secrets"
	"github.com/tessera/tessera/server/problem"
)

// initConnectors builds the connector services: the registry (built-ins from plugins/all),
// the SSRF guard (TESSERA_NET_ALLOW_HOSTS, TESSERA_NET_ALLOW_PRIVATE) and the encrypted
// credentials store (key from TESSERA_SECRET_KEY or <data dir>/secret.key).
func (s *Server) initConnectors() error {
	s.Connectors = sdk.Default()
	s.NetGuard = netguard.New(netguard.OptionsFromEnv())
	key, err := secrets.LoadKey(s.Cfg.SecretKey, s.Cfg.DataDir)
	if err != nil {
		return fmt.Errorf("starting credentials store: %w", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return fmt.Errorf("starting credentials store: %w", err)
	}
	s.Secrets = secrets.NewStore(s.DB.Pool, box)
	return nil
}

// mountCatalog registers the catalog and credentials routes.
func (s *Server) mountCatalog() error {
	s.route("GET", "/api/v1/catalog", "catalog", "Node types and connector operations with their parameter schemas.", s.getCatalog)
	s.route("GET", "/api/v1/apps/:app/credentials", "credentials", "List the app's credentials (never their values).", s.listCredentials)
	s.route("POST", "/api/v1/apps/:app/credentials", "credentials", "Save an encrypted credential {name, connector, values}.", s.createCredential)
	s.route("PATCH", "/api/v1/apps/:app/credentials/:id", "credentials", "Replace a credential's values {values}.", s.updateCredential)
	s.route("DELETE", "/api/v1/apps/:app/credentials/:id", "credentials", "Delete a credential.", s.deleteCredential)
	s.route("POST", "/api/v1/apps/:app/credentials/:id/test", "credentials", "Run the connector's connection test with the credential.", s.testCredential)
	return nil
}

// catalogParam mirrors the flow engine's parameter spec (runtime/engine.ParamSpec).
type catalogParam struct {
	Key      string     `json:"key"`
	Type     string     `json:"type"` // string, expr, template, object, array, number, duration, boolean, any
	Required bool       `json:"required,omitempty"`
	Label    spec.Label `json:"label,omitempty"`
	Help     string     `json:"help,omitempty"`
	Enum     []string   `json:"enum,omitempty"`
}

// catalogNode is one core node type of the builder palette.
type catalogNode struct {
	Type         string         `json:"type"`
	Label        spec.Label     `json:"label"`
	Category     string         `json:"category"`
	Params       []catalogParam `json:"params"`
	Ports        []string       `json:"ports,omitempty"`
	DynamicPorts bool           `json:"dynamic_ports,omitempty"`
	Waits        bool           `json:"waits,omitempty"`
}

func lbl(en, zh string) spec.Label { return spec.Label{"en": en, "zh-CN": zh} }

func cp(key, typ string, required bool, en, zh string, enum ...string) catalogParam {
	return catalogParam{Key: key, Type: typ, Required: required, Label: lbl(en, zh), Enum: enum}
}

// coreNodes is the static table of DESIGN 6a's core node types. The flow engine's own
// registry may replace it (see nodeCatalog).
var coreNodes = []catalogNode{
	{Type: "condition", Label: lbl("Condition", "条件"), Category: "logic", Ports: []string{"true", "false"},
		Params: []catalogParam{cp("expr", "expr", true, "Expression", "表达式")}},
	{Type: "switch", Label: lbl("Switch", "分支"), Category: "logic", DynamicPorts: true,
		Params: []catalogParam{cp("value", "expr", true, "Value", "取值"), cp("cases", "array", true, "Cases", "分支条件")}},
	{Type: "set", Label: lbl("Set values", "设置变量"), Category: "logic",
		Params: []catalogParam{cp("values", "object", true, "Values", "值")}},
	{Type: "script", Label: lbl("JavaScript", "脚本"), Category: "logic",
		Params: []catalogParam{cp("code", "string", true, "Code (function body)", "代码（函数体）"), cp("timeout", "duration", false, "Timeout", "超时")}},
	{Type: "record.create", Label: lbl("Create record", "创建记录"), Category: "records",
		Params: []catalogParam{cp("entity", "string", true, "Entity", "实体"), cp("values", "object", true, "Values", "字段值")}},
	{Type: "record.update", Label: lbl("Update record", "更新记录"), Category: "records",
		Params: []catalogParam{cp("entity", "string", true, "Entity", "实体"), cp("id", "template", true, "Record id", "记录 ID"), cp("values", "object", true, "Values", "字段值")}},
	{Type: "record.find", Label: lbl("Find records", "查找记录"), Category: "records",
		Params: []catalogParam{cp("entity", "string", true, "Entity", "实体"), cp("filter", "object", false, "Filter", "筛选"), cp("sort", "string", false, "Sort", "排序"), cp("limit", "number", false, "Limit", "数量上限")}},
	{Type: "record.delete", Label: lbl("Delete record", "删除记录"), Category: "records",
		Params: []catalogParam{cp("entity", "string", true, "Entity", "实体"), cp("id", "template", true, "Record id", "记录 ID")}},
	{Type: "assign", Label: lbl("Assign owner", "分配负责人"), Category: "records",
		Params: []catalogParam{cp("entity", "string", true, "Entity", "实体"), cp("id", "template", true, "Record id", "记录 ID"),
			cp("strategy", "string", true, "Strategy", "分配方式", "user", "round_robin", "least_loaded"), cp("user", "template", false, "User", "用户"), cp("team", "template", false, "Team", "团队")}},
	{Type: "delay", Label: lbl("Delay", "延时"), Category: "timing", Waits: true,
		Params: []catalogParam{cp("duration", "duration", false, "Duration", "时长"), cp("until", "template", false, "Until", "直到")}},
	{Type: "wait_event", Label: lbl("Wait for event", "等待事件"), Category: "timing", Waits: true, Ports: []string{"event", "timeout"},
		Params: []catalogParam{cp("event", "string", true, "Event", "事件"), cp("match", "expr", false, "Match", "匹配条件"), cp("timeout", "duration", false, "Timeout", "超时")}},
	{Type: "task", Label: lbl("Human task", "人工任务"), Category: "people", Waits: true,
		Params: []catalogParam{cp("title", "template", true, "Title", "标题"), cp("assignee", "template", true, "Assignee", "处理人"), cp("due", "duration", false, "Due in", "期限"), cp("form", "string", false, "Form", "表单")}},
	{Type: "approval", Label: lbl("Approval", "审批"), Category: "people", Waits: true, Ports: []string{"approved", "rejected"},
		Params: []catalogParam{cp("title", "template", true, "Title", "标题"), cp("approvers", "array", true, "Approvers", "审批人"), cp("mode", "string", false, "Mode", "审批方式", "any", "all"), cp("due", "duration", false, "Due in", "期限")}},
	{Type: "connector", Label: lbl("Connector", "连接器"), Category: "connectors",
		Params: []catalogParam{cp("connector", "string", true, "Connector", "连接器"), cp("operation", "string", true, "Operation", "操作"),
			cp("credential", "string", false, "Credential", "凭据"), cp("params", "object", false, "Parameters", "参数")}},
	{Type: "subflow", Label: lbl("Sub-flow", "子流程"), Category: "logic", Waits: true,
		Params: []catalogParam{cp("flow", "string", true, "Flow", "流程"), cp("input", "object", false, "Input", "输入"), cp("wait", "boolean", false, "Wait for result", "等待结果")}},
	{Type: "foreach", Label: lbl("For each", "循环"), Category: "logic",
		Params: []catalogParam{cp("items", "expr", true, "Items", "列表"), cp("flow", "string", true, "Flow per item", "每项执行的流程"), cp("concurrency", "number", false, "Concurrency", "并发数")}},
}

// nodeCatalog returns the core node types for the catalog.
var nodeCatalog = func() any { return coreNodes }

// getCatalog answers {nodes, connectors}: the core node types and every connector's spec
// (operations with parameter schemas, credential fields, capabilities).
func (s *Server) getCatalog(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"nodes": nodeCatalog(), "connectors": s.Connectors.Catalog()})
}

// credentialView is a credential as the API shows it: never its values, only which fields
// have one.
type credentialView struct {
	secrets.Credential
	Fields []string `json:"fields"`
}

func (s *Server) credentialView(ctx context.Context, cr secrets.Credential) credentialView {
	f, err := s.Secrets.Fields(ctx, cr.AppID, cr.ID)
	if err != nil {
		f = []string{} // an unreadable credential (rotated key) is still listed
	}
	return credentialView{Credential: cr, Fields: f}
}

func (s *Server) listCredentials(c *fiber.Ctx) error {
	_, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	list, err := s.Secrets.List(c.UserContext(), app.ID)
	if err != nil {
		return err
	}
	items := make([]credentialView, len(list))
	for i, cr := range list {
		items[i] = s.credentialView(c.UserContext(), cr)
	}
	return c.JSON(fiber.Map{"items": items})
}

type credentialBody struct {
	Name      string         `json:"name"`
	Connector string         `json:"connector"`
	Values    map[string]any `json:"values"`
}

// credentialValues validates values against the connector's credential fields and returns
// them as strings.
func credentialValues(conn sdk.Connector, values map[string]any) (map[string]string, spec.Errors) {
	prepared, fe := sdk.Prepare(conn.Spec().Credentials, values)
	var errs spec.Errors
	for _, e := range fe {
		errs = append(errs, spec.FieldError{Field: "values." + e.Field, Code: e.Code, Message: e.Message})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	out := make(map[string]string, len(prepared))
	for k, v := range prepared {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64, bool:
			out[k] = fmt.Sprint(x)
		default:
			return nil, spec.Errors{{Field: "values." + k, Code: "type", Message: "must be a string, number or boolean"}}
		}
	}
	return out, nil
}

func (s *Server) createCredential(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	var body credentialBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	var errs spec.Errors
	body.Name = strings.TrimSpace(body.Name)
	if body.Name == "" {
		errs = append(errs, spec.FieldError{Field: "name", Code: "required", Message: "is required / 必填"})
	} else if utf8.RuneCountInString(body.Name) > 100 {
		errs = append(errs, spec.FieldError{Field: "name", Code: "too_long", Message: "must be at most 100 characters / 最多 100 个字符"})
	}
	conn, ok := s.Connectors.Get(body.Connector)
	if !ok {
		errs = append(errs, spec.FieldError{Field: "connector", Code: "unknown", Message: "unknown connector / 未知的连接器"})
	} else if len(conn.Spec().Credentials) == 0 {
		errs = append(errs, spec.FieldError{Field: "connector", Code: "no_credentials", Message: "this connector takes no credentials / 该连接器不需要凭据"})
	}
	if len(errs) > 0 {
		return problem.Validation(errs)
	}
	values, verrs := credentialValues(conn, body.Values)
	if len(verrs) > 0 {
		return problem.Validation(verrs)
	}
	uid := p.UserID
	cr, err := s.Secrets.Create(c.UserContext(), app.ID, body.Name, body.Connector, values, &uid)
	if errors.Is(err, secrets.ErrDuplicate) {
		return problem.Conflict("a credential named " + body.Name + " already exists / 同名凭据已存在")
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s.credentialView(c.UserContext(), cr))
}

// loadCredential resolves :app (manage permission) and :id.
func (s *Server) loadCredential(c *fiber.Ctx) (secrets.Credential, error) {
	_, app, err := s.loadApp(c, "manage")
	if err != nil {
		return secrets.Credential{}, err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return secrets.Credential{}, err
	}
	cr, err := s.Secrets.Get(c.UserContext(), app.ID, id)
	if errors.Is(err, secrets.ErrNotFound) {
		return secrets.Credential{}, problem.NotFound("credential not found")
	}
	return cr, err
}

func (s *Server) updateCredential(c *fiber.Ctx) error {
	cr, err := s.loadCredential(c)
	if err != nil {
		return err
	}
	var body struct {
		Values map[string]any `json:"values"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	conn, ok := s.Connectors.Get(cr.Connector)
	if !ok {
		return problem.Validation(spec.Errors{{Field: "connector", Code: "unknown", Message: "the credential's connector is no longer installed / 连接器已不存在"}})
	}
	values, verrs := credentialValues(conn, body.Values)
	if len(verrs) > 0 {
		return problem.Validation(verrs)
	}
	cr, err = s.Secrets.Update(c.UserContext(), cr.AppID, cr.ID, values)
	if err != nil {
		return err
	}
	return c.JSON(s.credentialView(c.UserContext(), cr))
}

func (s *Server) deleteCredential(c *fiber.Ctx) error {
	cr, err := s.loadCredential(c)
	if err != nil {
		return err
	}
	if err := s.Secrets.Delete(c.UserContext(), cr.AppID, cr.ID); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// testCredential runs the connector's Tester with the decrypted credential through the
// guarded HTTP client; it answers 200 {ok, error?, at} and records the outcome.
func (s *Server) testCredential(c *fiber.Ctx) error {
	cr, err := s.loadCredential(c)
	if err != nil {
		return err
	}
	conn, ok := s.Connectors.Get(cr.Connector)
	if !ok {
		return problem.Validation(spec.Errors{{Field: "connector", Code: "unknown", Message: "the credential's connector is no longer installed / 连接器已不存在"}})
	}
	tester, ok := conn.(sdk.Tester)
	if !ok {
		return problem.Validation(spec.Errors{{Field: "connector", Code: "not_testable", Message: "this connector has no connection test / 该连接器不支持连接测试"}})
	}
	_, values, err := s.Secrets.Values(c.UserContext(), cr.AppID, cr.ID)
	if err != nil {
		return problem.New(fiber.StatusConflict, "the credential cannot be decrypted with the current key; save it again / 凭据无法解密，请重新保存")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 20*time.Second)
	defer cancel()
	env := s.ConnectorEnv(cr.AppID.String(), values)
	res := secrets.TestResult{OK: true, At: time.Now().UTC()}
	if terr := tester.Test(ctx, env); terr != nil {
		res.OK, res.Error = false, terr.Error()
	}
	if err := s.Secrets.RecordTest(c.UserContext(), cr.AppID, cr.ID, res); err != nil {
		return err
	}
	return c.JSON(res)
}

// ConnectorEnv builds the Env a connector runs with in this server: the SSRF-guarded HTTP
// client and dialer, the given decrypted credential values and the server's logger.
func (s *Server) ConnectorEnv(appID string, credentials map[string]string) sdk.Env {
	return sdk.Env{
		HTTP:        s.NetGuard.Client(),
		Dial:        s.NetGuard.DialContext,
		Credentials: credentials,
		Logger:      s.Log.With("component", "connector"),
		AppID:       appID,
		Attempt:     1,
	}
}
