package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/store"
	_ "github.com/tessera/tessera/plugins/all" // built-in connectors
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/jsplugins"
	"github.com/tessera/tessera/runtime/netguard"
	"github.com/tessera/tessera/runtime/script"
	"github.com/tessera/tessera/runtime/secrets"
	"github.com/tessera/tessera/runtime/tracking"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// initConnectors builds the connector services: the registry (built-ins from plugins/all plus
// the JavaScript plugins of TESSERA_PLUGINS_DIR), the SSRF guard (TESSERA_NET_ALLOW_HOSTS,
// TESSERA_NET_ALLOW_PRIVATE) and the encrypted credentials store (key from
// TESSERA_SECRET_KEY or <data dir>/secret.key).
func (s *Server) initConnectors() error {
	s.Connectors = sdk.Default().Clone()
	if dir := s.Cfg.PluginsDir; dir != "" {
		// Plugin code runs in sandbox worker processes, started on the first plugin call.
		runner := jsplugins.NewLazyPool(script.Options{Logger: s.Log})
		s.OnShutdown(func() { _ = runner.Close() })
		_, s.PluginProblems = jsplugins.Load(dir, s.Connectors, runner, s.Log)
	}
	guardOpts, err := netguard.OptionsFromEnv()
	if err != nil {
		return fmt.Errorf("starting the outbound network guard: %w", err)
	}
	s.NetGuard = netguard.New(guardOpts)
	key, err := secrets.LoadKey(s.Cfg.SecretKey, s.Cfg.DataDir)
	if err != nil {
		return fmt.Errorf("starting credentials store: %w", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return fmt.Errorf("starting credentials store: %w", err)
	}
	s.Tracking = tracking.NewSigner(key)
	s.Secrets = secrets.NewStore(s.DB.Pool, box)
	if err := s.Secrets.CheckKey(context.Background()); err != nil {
		return fmt.Errorf("starting credentials store: %w", err)
	}
	return nil
}

// mountCatalog registers the catalog and credentials routes.
func (s *Server) mountCatalog() error {
	s.route("GET", "/api/v1/catalog", "catalog", "Node types and connector operations with their parameter schemas.", s.getCatalog)
	s.route("GET", "/api/v1/apps/:app/credentials", "credentials", "List the app's credentials (never their values).", s.listCredentials)
	s.route("POST", "/api/v1/apps/:app/credentials", "credentials", "Save an encrypted credential {name, connector, values}.", s.createCredential)
	s.route("PATCH", "/api/v1/apps/:app/credentials/:id", "credentials", "Change a credential's values {values} (merged over the saved ones; null removes one).", s.updateCredential)
	s.route("DELETE", "/api/v1/apps/:app/credentials/:id", "credentials", "Delete a credential.", s.deleteCredential)
	s.route("POST", "/api/v1/apps/:app/connectors/:connector/options", "catalog",
		"Dynamic choices of a connector parameter {operation (or poll trigger), param, credential, params} -> {options}.", s.connectorOptions)
	s.route("POST", "/api/v1/apps/:app/credentials/:id/test", "credentials", "Run the connector's connection test with the credential.", s.testCredential)
	return nil
}

// nodeCatalog returns the core node types (condition, switch, set, script, record.*, assign,
// delay, wait_event, task, approval, connector, subflow, foreach, ...) with their parameter
// specs and ports, from the flow engine's own registry: one source for validation and the
// builder's palette.
func nodeCatalog() any { return engine.NodeTypes() }

// getCatalog answers {nodes, connectors}: the core node types and every connector's spec
// (operations with parameter schemas, credential fields, capabilities, source builtin or
// plugin). Platform admins also get plugin_problems: the plugins that failed to load.
func (s *Server) getCatalog(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	out := fiber.Map{"nodes": nodeCatalog(), "connectors": s.Connectors.Catalog()}
	if p.IsAdmin {
		problems := s.PluginProblems
		if problems == nil {
			problems = []jsplugins.Problem{}
		}
		out["plugin_problems"] = problems
	}
	return c.JSON(out)
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

// loadAppEditor resolves :app for callers who manage the app or edit its flows (publish).
func (s *Server) loadAppEditor(c *fiber.Ctx) (*auth.Principal, *store.App, error) {
	p, app, err := s.loadApp(c, "manage")
	if err != nil {
		if pr := problem.From(err); pr.Status == fiber.StatusForbidden {
			return s.loadApp(c, "publish")
		}
	}
	return p, app, err
}

// listCredentials lists credential names for app managers and flow editors (who pick one
// per connector node); values never leave the server.
func (s *Server) listCredentials(c *fiber.Ctx) error {
	_, app, err := s.loadAppEditor(c)
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

// Credential size limits: a credential holds keys, tokens, URLs and at most a PEM certificate
// chain; anything larger is a mistake (or an attempt to fill the database).
const (
	maxCredentialBody  = 1 << 20  // bytes of a create or update request: 413 above
	maxCredentialValue = 64 << 10 // bytes of one value: 422 values.<key> too_long above
)

// checkCredentialBodySize answers 413 for a credential request body over maxCredentialBody.
func checkCredentialBodySize(c *fiber.Ctx) error {
	if len(c.Body()) > maxCredentialBody {
		return problem.New(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("a credential request must be at most %d KiB / 凭据请求不能超过 %d KiB", maxCredentialBody>>10, maxCredentialBody>>10))
	}
	return nil
}

// credentialValues validates values against the connector's credential fields and returns
// them as strings.
func credentialValues(conn sdk.Connector, values map[string]any) (map[string]string, spec.Errors) {
	prepared, fe := sdk.Prepare(conn.Spec().Credentials, values)
	if checker, ok := conn.(sdk.CredentialChecker); ok && len(fe) == 0 {
		fe = checker.CheckCredentials(prepared)
	}
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
			errs = append(errs, spec.FieldError{Field: "values." + k, Code: "type", Message: "must be a string, number or boolean / 应为字符串、数字或布尔值"})
			continue
		}
		if len(out[k]) > maxCredentialValue {
			errs = append(errs, spec.FieldError{Field: "values." + k, Code: "too_long", Message: fmt.Sprintf("must be at most %d KiB / 不能超过 %d KiB", maxCredentialValue>>10, maxCredentialValue>>10)})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	return out, nil
}

func (s *Server) createCredential(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "manage")
	if err != nil {
		return err
	}
	if err := checkCredentialBodySize(c); err != nil {
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
	} else if strings.IndexFunc(body.Name, unicode.IsControl) >= 0 || !utf8.ValidString(body.Name) {
		errs = append(errs, spec.FieldError{Field: "name", Code: "invalid", Message: "must not contain control characters / 不能包含控制字符"})
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
		return secrets.Credential{}, problem.NotFound("credential not found / 凭据不存在")
	}
	return cr, err
}

func (s *Server) updateCredential(c *fiber.Ctx) error {
	cr, err := s.loadCredential(c)
	if err != nil {
		return err
	}
	if err := checkCredentialBodySize(c); err != nil {
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
	// Merge over the saved values: the API never shows secrets, so changing a base URL or
	// rotating one token must not require re-entering the others. null removes a value.
	merged := map[string]any{}
	if _, old, err := s.Secrets.Values(c.UserContext(), cr.AppID, cr.ID); err == nil {
		for k, v := range old {
			merged[k] = v
		}
	} // unreadable (another key): the body replaces the values
	for k, v := range body.Values {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	for k := range merged {
		if _, known := body.Values[k]; !known && !credentialField(conn, k) {
			delete(merged, k) // a field the connector dropped since the credential was saved
		}
	}
	values, verrs := credentialValues(conn, merged)
	if len(verrs) > 0 {
		return problem.Validation(verrs)
	}
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	uid := p.UserID
	cr, err = s.Secrets.Update(c.UserContext(), cr.AppID, cr.ID, values, &uid)
	if errors.Is(err, secrets.ErrNotFound) {
		return problem.NotFound("credential not found / 凭据不存在")
	}
	if err != nil {
		return err
	}
	return c.JSON(s.credentialView(c.UserContext(), cr))
}

// credentialField reports whether key is one of conn's credential fields.
func credentialField(conn sdk.Connector, key string) bool {
	for _, p := range conn.Spec().Credentials {
		if p.Key == key {
			return true
		}
	}
	return false
}

func (s *Server) deleteCredential(c *fiber.Ctx) error {
	cr, err := s.loadCredential(c)
	if err != nil {
		return err
	}
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	uid := p.UserID
	if err := s.Secrets.Delete(c.UserContext(), cr.AppID, cr.ID, &uid); err != nil && !errors.Is(err, secrets.ErrNotFound) {
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

type optionsBody struct {
	Operation  string         `json:"operation"`
	Param      string         `json:"param"`
	Credential string         `json:"credential"`
	Params     map[string]any `json:"params"`
}

// connectorOptions answers the choices of a parameter marked dynamic_options, from the
// connector's OptionsProvider, with the app's named credential.
func (s *Server) connectorOptions(c *fiber.Ctx) error {
	p, app, err := s.loadAppEditor(c)
	if err != nil {
		return err
	}
	conn, ok := s.Connectors.Get(c.Params("connector"))
	if !ok {
		return problem.NotFound("connector " + c.Params("connector") + " not found / 连接器不存在")
	}
	var body optionsBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	op, ok := conn.Spec().Operation(body.Operation)
	if tr, isTrigger := conn.Spec().Trigger(body.Operation); !ok && isTrigger {
		op, ok = sdk.Operation{ID: tr.ID, Params: tr.Params}, true // "operation" may name a poll trigger
	}
	if !ok {
		return problem.Validation(spec.Errors{{Field: "operation", Code: "unknown", Message: "unknown operation / 未知的操作"}})
	}
	dynamic := false
	for _, p := range op.Params {
		if p.Key == body.Param {
			dynamic = p.DynamicOptions
		}
	}
	provider, isProvider := conn.(sdk.OptionsProvider)
	if !dynamic || !isProvider {
		return problem.Validation(spec.Errors{{Field: "param", Code: "not_dynamic", Message: "this parameter has no dynamic options / 该参数没有动态选项"}})
	}
	var values map[string]string
	if body.Credential == "" && needsCredential(conn.Spec()) {
		return problem.Validation(spec.Errors{{Field: "credential", Code: "required", Message: "connector " + conn.Spec().ID + " needs a credential / 该连接器需要凭据"}})
	}
	if body.Credential != "" {
		cr, err := s.Secrets.GetByName(c.UserContext(), app.ID, body.Credential)
		if errors.Is(err, secrets.ErrNotFound) || err == nil && cr.Connector != conn.Spec().ID {
			return problem.Validation(spec.Errors{{Field: "credential", Code: "unknown", Message: "no such credential for this connector / 没有该连接器的此凭据"}})
		}
		if err != nil {
			return err
		}
		if _, values, err = s.Secrets.Values(c.UserContext(), app.ID, cr.ID); err != nil {
			return problem.New(fiber.StatusConflict, "the credential cannot be decrypted with the current key; save it again / 凭据无法解密，请重新保存")
		}
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 20*time.Second)
	defer cancel()
	env := s.ConnectorEnv(app.ID.String(), values)
	env.Records = s.recordReader(ctx, app.ID, p.Subject())
	opts, err := provider.Options(ctx, env, body.Operation, body.Param, body.Params)
	if err != nil {
		return problem.New(fiber.StatusBadGateway, "listing options / 获取选项失败: "+err.Error())
	}
	if opts == nil {
		opts = []sdk.Option{}
	}
	return c.JSON(fiber.Map{"options": opts})
}

// CheckConnectorNodes validates a flow's connector nodes against the connectors' specs at
// publish: known connector and operation, input parameters (sdk.ValidateParams; {{ }}
// templates pass type checks), and a credential of the right connector saved in the app when
// the connector takes credentials. Errors name their path (nodes[i].params.input.<key>).
func (s *Server) CheckConnectorNodes(ctx context.Context, appID uuid.UUID, f *spec.Flow) spec.Errors {
	var errs spec.Errors
	add := func(field, code, msg string) {
		errs = append(errs, spec.FieldError{Field: field, Code: code, Message: msg})
	}
	for i, n := range f.Nodes {
		if n.Type != "connector" {
			continue
		}
		base := fmt.Sprintf("nodes[%d].params", i)
		var p struct {
			Connector  string          `json:"connector"`
			Operation  string          `json:"operation"`
			Credential string          `json:"credential"`
			Input      json.RawMessage `json:"input"`
			Optional   bool            `json:"optional"`
		}
		if len(n.Params) > 0 && json.Unmarshal(n.Params, &p) != nil {
			continue // the engine's compile reports malformed params
		}
		conn, ok := s.Connectors.Get(p.Connector)
		if !ok {
			continue // reported by the engine's compile
		}
		cs := conn.Spec()
		op, ok := cs.Operation(p.Operation)
		if !ok {
			continue
		}
		var input any
		if len(p.Input) > 0 {
			if err := json.Unmarshal(p.Input, &input); err != nil {
				continue
			}
		}
		switch in := input.(type) {
		case nil:
			for _, fe := range sdk.ValidateParams(op.Params, nil) {
				add(base+".input."+fe.Field, fe.Code, fe.Message)
			}
		case map[string]any:
			for _, fe := range sdk.ValidateParams(op.Params, in) {
				add(base+".input."+fe.Field, fe.Code, fe.Message)
			}
		case string:
			if !sdk.IsTemplate(in) {
				add(base+".input", "type", "must be an object of parameters or a {{ }} template / 应为参数对象或 {{ }} 模板")
			}
		default:
			add(base+".input", "type", "must be an object of parameters / 应为参数对象")
		}
		switch {
		case p.Credential == "" && needsCredential(cs) && s.platformCredential(cs.ID) == nil:
			add(base+".credential", "required", "connector "+cs.ID+" needs a credential / 该连接器需要凭据")
		case p.Credential != "" && !sdk.IsTemplate(p.Credential):
			cr, err := s.Secrets.GetByName(ctx, appID, p.Credential)
			if errors.Is(err, secrets.ErrNotFound) && !p.Optional && s.platformCredential(cs.ID) == nil {
				add(base+".credential", "unknown", "no credential named "+p.Credential+" in this app / 应用中没有该凭据")
			} else if err == nil && cr.Connector != cs.ID {
				add(base+".credential", "wrong_connector", "credential "+p.Credential+" belongs to connector "+cr.Connector+" / 凭据属于其他连接器")
			}
		}
	}
	return errs
}

// needsCredential reports whether a connector has a required credential field.
func needsCredential(cs sdk.Spec) bool {
	for _, c := range cs.Credentials {
		if c.Required {
			return true
		}
	}
	return false
}

// StoreConnectorFiles stores every sdk.File in a connector's output (a generated PDF...) in
// the files store of app and replaces it with its attachment value {"id","name","type",
// "size","sha256","uploaded_at"}, so a later record.update can attach it with
// {"files": [{"id": "{{ steps.<node>.file.id }}"}]}. The flow engine's connector caller calls it
// on each output; files written before an error are left for the files janitor.
func (s *Server) StoreConnectorFiles(ctx context.Context, appID uuid.UUID, out any) (any, error) {
	switch v := out.(type) {
	case sdk.File:
		return s.storeFile(ctx, appID, v)
	case *sdk.File:
		if v == nil {
			return nil, nil
		}
		return s.storeFile(ctx, appID, *v)
	case map[string]any:
		res := make(map[string]any, len(v))
		for k, x := range v {
			y, err := s.StoreConnectorFiles(ctx, appID, x)
			if err != nil {
				return nil, err
			}
			res[k] = y
		}
		return res, nil
	case []any:
		res := make([]any, len(v))
		for i, x := range v {
			y, err := s.StoreConnectorFiles(ctx, appID, x)
			if err != nil {
				return nil, err
			}
			res[i] = y
		}
		return res, nil
	}
	return out, nil
}

func (s *Server) storeFile(ctx context.Context, appID uuid.UUID, f sdk.File) (map[string]any, error) {
	if int64(len(f.Data)) > s.Cfg.MaxUpload {
		return nil, fmt.Errorf("storing %s: the file is larger than %d MiB", f.Name, s.Cfg.MaxUpload>>20)
	}
	dir := s.filesDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating files dir: %w", err)
	}
	id := uuid.New()
	path := filepath.Join(dir, id.String())
	if err := os.WriteFile(path, f.Data, 0o640); err != nil {
		return nil, fmt.Errorf("storing %s: %w", f.Name, err)
	}
	sum := sha256.Sum256(f.Data)
	name := cleanFileName(f.Name)
	typ := f.Type
	if typ == "" {
		typ = "application/octet-stream"
	}
	var at time.Time
	if err := s.DB.Pool.QueryRow(ctx, `INSERT INTO files (id, name, type, size, sha256, path, app_id) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING uploaded_at`,
		id, name, typ, len(f.Data), hex.EncodeToString(sum[:]), id.String(), appID).Scan(&at); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("recording %s: %w", f.Name, err)
	}
	return map[string]any{"id": id.String(), "name": name, "type": typ, "size": len(f.Data), "sha256": hex.EncodeToString(sum[:]),
		"uploaded_at": at.UTC().Format(time.RFC3339Nano)}, nil
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
		Files:       s.connectorFiles(appID),
	}
}

// connectorFiles reads stored files for connectors (an email attachment {"id"}), only among
// the files of appID, at most the upload limit.
func (s *Server) connectorFiles(appID string) sdk.FileReader {
	return func(ctx context.Context, id string) (sdk.File, error) {
		notFound := sdk.Permanent(fmt.Errorf("file %s not found in this app / 应用中没有该文件", id))
		fid, err := uuid.Parse(id)
		if err != nil {
			return sdk.File{}, notFound
		}
		aid, err := uuid.Parse(appID)
		if err != nil {
			return sdk.File{}, notFound
		}
		var name, typ, path string
		var size int64
		err = s.DB.Pool.QueryRow(ctx, `SELECT name, type, size, path FROM files WHERE id = $1 AND app_id = $2`, fid, aid).Scan(&name, &typ, &size, &path)
		if errors.Is(err, pgx.ErrNoRows) {
			return sdk.File{}, notFound
		}
		if err != nil {
			return sdk.File{}, sdk.Temporary(fmt.Errorf("loading file %s: %w", id, err))
		}
		if strings.ContainsAny(path, `/\`) || strings.Contains(path, "..") {
			return sdk.File{}, notFound
		}
		if size > s.Cfg.MaxUpload {
			return sdk.File{}, sdk.Permanent(fmt.Errorf("file %s is larger than %d MiB / 文件超过 %d MiB", name, s.Cfg.MaxUpload>>20, s.Cfg.MaxUpload>>20))
		}
		data, err := os.ReadFile(filepath.Join(s.filesDir(), path))
		if err != nil {
			return sdk.File{}, sdk.Permanent(fmt.Errorf("the content of file %s is missing / 文件内容丢失", name))
		}
		return sdk.File{Name: name, Type: typ, Size: len(data), Data: data}, nil
	}
}
