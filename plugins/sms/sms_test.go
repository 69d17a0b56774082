package sms_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
	"github.com/tessera/tessera/plugins/sms"
)

// TestAliyunSignatureVector checks the signature against the worked example in Aliyun's SMS
// API documentation (GET, AccessKeySecret "testSecret").
func TestAliyunSignatureVector(t *testing.T) {
	params := map[string]string{
		"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
		"PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
		"SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": `{"customer":"test"}`,
		"Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
	}
	if got := sms.AliyunSignature("GET", params, "testSecret"); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Fatalf("signature %s", got)
	}
}

// aliyunPeer verifies requests the way the Aliyun gateway does, with its own canonicaliser.
type aliyunPeer struct {
	secret string
	now    time.Time
	got    []url.Values
	nonces map[string]bool
}

func enc(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

func (a *aliyunPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(b))
	if err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		w.WriteHeader(400)
		io.WriteString(w, `{"Code":"InvalidParameter","Message":"bad form"}`)
		return
	}
	var keys []string
	for k := range form {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, enc(k)+"="+enc(form.Get(k)))
	}
	mac := hmac.New(sha1.New, []byte(a.secret+"&"))
	mac.Write([]byte(r.Method + "&%2F&" + enc(strings.Join(pairs, "&"))))
	if form.Get("Signature") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		w.WriteHeader(400)
		io.WriteString(w, `{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation.","RequestId":"r-1"}`)
		return
	}
	ts, _ := time.Parse("2006-01-02T15:04:05Z", form.Get("Timestamp"))
	if a.now.Sub(ts).Abs() > 15*time.Minute || a.nonces[form.Get("SignatureNonce")] {
		w.WriteHeader(400)
		io.WriteString(w, `{"Code":"SignatureNonceUsed","Message":"nonce or time"}`)
		return
	}
	a.nonces[form.Get("SignatureNonce")] = true
	if form.Get("Action") != "SendSms" || form.Get("Version") != "2017-05-25" {
		io.WriteString(w, `{"Code":"InvalidAction","Message":"x"}`)
		return
	}
	a.got = append(a.got, form)
	if strings.Contains(form.Get("PhoneNumbers"), "13800000000") {
		io.WriteString(w, `{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"非法手机号","RequestId":"r-2"}`)
		return
	}
	io.WriteString(w, `{"Code":"OK","Message":"OK","RequestId":"r-3","BizId":"900619746936498440^0"}`)
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, sms.Connector{}) }

func TestAliyunSend(t *testing.T) {
	now := time.Now()
	peer := &aliyunPeer{secret: "s3cr3t/+*~", now: now, nonces: map[string]bool{}}
	srv := httptest.NewServer(peer)
	defer srv.Close()
	h := sdktest.New(t).WithNow(now).WithCredentials(map[string]string{
		"provider": "aliyun", "access_key_id": "LTAI-test", "access_key_secret": peer.secret,
		"sign_name": "泰塞拉科技", "endpoint": srv.URL + "/"})
	out := h.MustRun(sms.Connector{}, "send", map[string]any{"phone": "138 0013 8000, 139-0013-9000",
		"template_code": "SMS_154950909", "template_param": `{"name":"张三","code":"1234"}`, "out_id": "lead-42"}).(map[string]any)
	if out["biz_id"] != "900619746936498440^0" || out["code"] != "OK" {
		t.Fatalf("out %v", out)
	}
	f := peer.got[0]
	var tp map[string]any
	json.Unmarshal([]byte(f.Get("TemplateParam")), &tp)
	if f.Get("PhoneNumbers") != "13800138000,13900139000" || f.Get("SignName") != "泰塞拉科技" || tp["name"] != "张三" || f.Get("OutId") != "lead-42" || f.Get("AccessKeyId") != "LTAI-test" {
		t.Fatalf("form %v", f)
	}
	// Two sends use two nonces (the peer refuses a replayed nonce).
	h.MustRun(sms.Connector{}, "send", map[string]any{"phone": "13800138000", "template_code": "SMS_1"})

	_, err := h.Run(sms.Connector{}, "send", map[string]any{"phone": "13800000000", "template_code": "SMS_1"})
	if err == nil || !strings.Contains(err.Error(), "isv.MOBILE_NUMBER_ILLEGAL") || sdk.IsRetryable(err) {
		t.Fatalf("illegal number: %v", err)
	}
	h.Env.Credentials["access_key_secret"] = "wrong"
	_, err = h.Run(sms.Connector{}, "send", map[string]any{"phone": "13800138000", "template_code": "SMS_1"})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || sdk.IsRetryable(err) {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestCustomGateway(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gw-tok" {
			w.WriteHeader(401)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		got["idem"] = r.Header.Get("Idempotency-Key")
		io.WriteString(w, `{"id":"gw-1"}`)
	}))
	defer srv.Close()
	creds := map[string]string{"provider": "custom", "gateway_url": srv.URL + "/send", "gateway_token": "gw-tok", "sign_name": "泰塞拉"}
	if errs := sdk.ValidateParams(sms.Connector{}.Spec().Credentials, map[string]any{"provider": "custom", "gateway_url": "u", "sign_name": "s"}); len(errs) != 0 {
		t.Fatalf("aliyun fields required for the custom provider: %v", errs)
	}
	h := sdktest.New(t).WithCredentials(creds)
	out := h.MustRun(sms.Connector{}, "send", map[string]any{"phone": "13800138000", "template_code": "WELCOME", "template_param": map[string]any{"name": "李雷"}})
	if out.(map[string]any)["biz_id"] != "gw-1" || got["sign_name"] != "泰塞拉" || got["template_param"].(map[string]any)["name"] != "李雷" ||
		got["phones"].([]any)[0] != "13800138000" || got["idem"] != "test-run:test-node" {
		t.Fatalf("out %v got %v", out, got)
	}
	h.Env.Credentials["gateway_token"] = "bad"
	if _, err := h.Run(sms.Connector{}, "send", map[string]any{"phone": "13800138000", "template_code": "W"}); err == nil || sdk.IsRetryable(err) {
		t.Fatalf("401: %v", err)
	}
}
