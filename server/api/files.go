package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountFiles registers the files routes.
func (s *Server) mountFiles() error {
	s.route(fiber.MethodPost, "/api/v1/files", "files", "Upload a file (multipart field \"file\"); attach it with {\"field\":[{\"id\"}]}", s.uploadFile)
	s.route(fiber.MethodGet, "/api/v1/files/:id", "files", "Download a file (uploader, admins, readers of a record it is attached to); inline=1 opens images and PDFs inline for preview", s.downloadFile)
	return nil
}

// fileKind is one allowed upload type: the extensions that name it and the sniffed types that
// its content may have.
type fileKind struct {
	mime  string
	sniff []string // prefixes of http.DetectContentType results
}

var ole = []string{"application/octet-stream", "application/x-ole-storage"}
var zipSniff = []string{"application/zip"}
var textSniff = []string{"text/plain"}

// allowedFiles is the upload allow-list by extension.
var allowedFiles = map[string]fileKind{
	".pdf":  {"application/pdf", []string{"application/pdf"}},
	".png":  {"image/png", []string{"image/png"}},
	".jpg":  {"image/jpeg", []string{"image/jpeg"}},
	".jpeg": {"image/jpeg", []string{"image/jpeg"}},
	".gif":  {"image/gif", []string{"image/gif"}},
	".webp": {"image/webp", []string{"image/webp"}},
	".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", zipSniff},
	".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", zipSniff},
	".pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation", zipSniff},
	".doc":  {"application/msword", ole},
	".xls":  {"application/vnd.ms-excel", ole},
	".ppt":  {"application/vnd.ms-powerpoint", ole},
	".csv":  {"text/csv", textSniff},
	".txt":  {"text/plain", textSniff},
	".zip":  {"application/zip", zipSniff},
}

// classifyFile returns the stored MIME type for a file named name whose first bytes are head,
// or "" when the type is not allowed or the content does not match the extension.
func classifyFile(name string, head []byte) string {
	ext := strings.ToLower(filepath.Ext(name))
	k, ok := allowedFiles[ext]
	if !ok {
		return ""
	}
	sniffed := http.DetectContentType(head)
	if k.mime == "application/msword" || k.mime == "application/vnd.ms-excel" || k.mime == "application/vnd.ms-powerpoint" {
		if len(head) >= 8 && string(head[:8]) == "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" {
			return k.mime
		}
		return ""
	}
	for _, p := range k.sniff {
		if strings.HasPrefix(sniffed, p) {
			return k.mime
		}
	}
	return ""
}

// cleanFileName keeps the base name, valid UTF-8, no control characters, at most 200 bytes.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '"' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name[:200])
		name = name[:200-size]
	}
	if name == "" || name == "." {
		name = "file"
	}
	return name
}

func (s *Server) filesDir() string {
	if s.Records != nil && s.Records.Options().FilesDir != "" {
		return s.Records.Options().FilesDir
	}
	return filepath.Join(s.Cfg.DataDir, "files")
}

func (s *Server) uploadFile(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
		return problem.New(fiber.StatusUnsupportedMediaType, `send the file as multipart/form-data in the field "file"`)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return problem.Validation(specErrors("file", "required", `a multipart field "file" is required (请选择文件)`))
	}
	if fh.Size > s.Cfg.MaxUpload {
		return problem.Newf(fiber.StatusRequestEntityTooLarge, "the file is larger than %d MiB (文件过大)", s.Cfg.MaxUpload>>20)
	}
	up, err := openUpload(fh)
	if err != nil {
		return err
	}
	defer up.src.Close()
	name, typ := up.name, up.typ
	if typ == "" {
		return problem.New(fiber.StatusUnsupportedMediaType, "this file type is not allowed: upload PDF, images, Office documents, CSV, TXT or ZIP (不支持的文件类型)").WithCode("file_type")
	}
	id, size, sum, at, err := s.storeUpload(c.UserContext(), up.src, up.head, name, typ, &p.UserID, s.Cfg.MaxUpload)
	if errors.Is(err, errTooLarge) {
		return problem.Newf(fiber.StatusRequestEntityTooLarge, "the file is larger than %d MiB (文件过大)", s.Cfg.MaxUpload>>20)
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id, "name": name, "type": typ, "size": size, "sha256": sum, "uploaded_at": at.UTC()})
}

// upload is a multipart file opened for storing: its first 512 bytes are read (the type is
// judged from them and the name), the rest is still to be read from src (the caller closes it).
type upload struct {
	src  multipart.File
	head []byte
	name string // cleaned (cleanFileName)
	typ  string // classifyFile's type; "" : not allowed
}

// openUpload opens an uploaded file (files and public form uploads alike) and reads its head.
func openUpload(fh *multipart.FileHeader) (*upload, error) {
	src, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("opening upload: %w", err)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(src, head)
	name := cleanFileName(fh.Filename)
	return &upload{src: src, head: head[:n], name: name, typ: classifyFile(name, head[:n])}, nil
}

// errTooLarge is storeUpload's answer when the content is longer than the limit.
var errTooLarge = errors.New("file too large")

// storeUpload writes an upload (head, then the rest of src, at most limit bytes) to the files
// directory and records it in the files table (by nil: an anonymous upload). It answers
// errTooLarge when the content is longer than limit; nothing is kept then.
func (s *Server) storeUpload(ctx context.Context, src io.Reader, head []byte, name, typ string, by *uuid.UUID, limit int64) (uuid.UUID, int64, string, time.Time, error) {
	var at time.Time
	dir := s.filesDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return uuid.Nil, 0, "", at, fmt.Errorf("creating files dir: %w", err)
	}
	id := uuid.New()
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return uuid.Nil, 0, "", at, fmt.Errorf("storing upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head), io.LimitReader(src, limit+1-int64(len(head)))))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uuid.Nil, 0, "", at, fmt.Errorf("storing upload: %w", err)
	}
	if size > limit {
		return uuid.Nil, 0, "", at, errTooLarge
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, id.String())); err != nil {
		return uuid.Nil, 0, "", at, fmt.Errorf("storing upload: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := s.DB.Pool.QueryRow(ctx, `INSERT INTO files (id, name, type, size, sha256, path, uploaded_by) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING uploaded_at`,
		id, name, typ, size, sum, id.String(), by).Scan(&at); err != nil {
		_ = os.Remove(filepath.Join(dir, id.String()))
		return uuid.Nil, 0, "", at, fmt.Errorf("recording upload: %w", err)
	}
	return id, size, sum, at, nil
}

func (s *Server) downloadFile(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	id, err := paramUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var name, typ, path string
	var size int64
	var by, appID *uuid.UUID
	err = s.DB.Pool.QueryRow(ctx, `SELECT name, type, size, path, uploaded_by, app_id FROM files WHERE id = $1`, id).Scan(&name, &typ, &size, &path, &by, &appID)
	if errors.Is(err, pgx.ErrNoRows) {
		return problem.NotFound("file not found (文件不存在)")
	}
	if err != nil {
		return fmt.Errorf("loading file: %w", err)
	}
	allowed := p.IsAdmin || (by != nil && *by == p.UserID)
	if !allowed && appID != nil {
		allowed, err = s.canReadAttachment(c, p, *appID, id)
		if err != nil {
			return err
		}
	}
	if !allowed {
		return problem.NotFound("file not found (文件不存在)")
	}
	if strings.ContainsAny(path, `/\`) || strings.Contains(path, "..") {
		return problem.NotFound("file not found (文件不存在)")
	}
	f, err := os.Open(filepath.Join(s.filesDir(), path))
	if err != nil {
		return problem.NotFound("the file's content is missing (文件内容丢失)")
	}
	c.Set(fiber.HeaderContentType, typ)
	c.Set("X-Content-Type-Options", "nosniff")
	disposition := "attachment"
	if c.Query("inline") == "1" && inlineTypes[typ] {
		// a preview on the record page: images in an img, PDFs in a frame of the app itself
		disposition = "inline"
		c.Set(fiber.HeaderCacheControl, "private, max-age=300")
		if typ == "application/pdf" {
			// the browser's PDF viewer does not run in a sandboxed document
			c.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
			c.Set("X-Frame-Options", "SAMEORIGIN")
		}
	}
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	if c.Get(fiber.HeaderContentDisposition) == "" {
		c.Set(fiber.HeaderContentDisposition, disposition+"; filename*=UTF-8''"+url.PathEscape(name))
	}
	return c.SendStream(f, int(size))
}

// inlineTypes are the stored types a reader may open inline (?inline=1): images and PDFs. Every
// other type (office documents, text, archives) is always a download.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "application/pdf": true}

// canReadAttachment reports whether the caller can read a live record of app that has the file
// in one of its attachment fields, and that field is not hidden from the caller.
func (s *Server) canReadAttachment(c *fiber.Ctx, p *auth.Principal, appID, fileID uuid.UUID) (bool, error) {
	ctx := c.UserContext()
	rows, err := s.DB.Pool.Query(ctx, `SELECT entity, owner_id, team_id,
			ARRAY(SELECT e.key FROM jsonb_each(data) e WHERE jsonb_typeof(e.value) = 'array'
				AND e.value @> jsonb_build_array(jsonb_build_object('id', $2::text)))
		FROM records
		WHERE app_id = $1 AND deleted_at IS NULL AND jsonb_path_exists(data, '$.*[*] ? (@.id == $id)', jsonb_build_object('id', $2::text))
		LIMIT 50`, appID, fileID.String())
	if err != nil {
		return false, fmt.Errorf("finding records of file: %w", err)
	}
	type ref struct {
		entity      string
		owner, team *uuid.UUID
		fields      []string
	}
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.entity, &r.owner, &r.team, &r.fields); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading records of file: %w", err)
		}
		refs = append(refs, r)
	}
	rows.Close()
	for _, r := range refs {
		g, err := s.Authz.Grant(ctx, p.Subject(), appID, "entity:"+r.entity, "read")
		if err != nil {
			return false, fmt.Errorf("checking permission: %w", err)
		}
		if !g.Visible(r.owner, r.team) {
			continue
		}
		for _, f := range r.fields {
			if !g.Hidden[f] {
				return true, nil
			}
		}
	}
	return false, nil
}
