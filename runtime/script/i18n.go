package script

import (
	"fmt"
	"regexp"
)

// zhMessages translates the sandbox's own messages (not the script's exceptions) to zh-CN.
var zhMessages = []struct {
	re *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`^script exceeded its (\S+) time limit$`), "脚本超出了 $1 的时间限制"},
	{regexp.MustCompile(`^script exceeded its memory limit \((\d+) MiB\)$`), "脚本超出了内存限制（$1 MiB）"},
	{regexp.MustCompile(`^script worker crashed$`), "脚本执行进程崩溃"},
	{regexp.MustCompile(`^script worker returned invalid JSON$`), "脚本执行进程返回了无效的 JSON"},
	{regexp.MustCompile(`^script exceeded the maximum call depth \((\d+)\)$`), "脚本超出了最大调用深度（$1）"},
	{regexp.MustCompile(`^script input is larger than (.+)$`), "脚本输入超过 $1"},
	{regexp.MustCompile(`^script output is larger than (.+)$`), "脚本输出超过 $1"},
	{regexp.MustCompile(`^script code is larger than (.+)$`), "脚本代码超过 $1"},
	{regexp.MustCompile(`^script input is not valid JSON$`), "脚本输入不是有效的 JSON"},
	{regexp.MustCompile(`^script nests brackets deeper than (\d+) levels$`), "脚本的括号嵌套超过 $1 层"},
	{regexp.MustCompile(`^script returned a promise that never settled`), "脚本返回的 Promise 始终没有完成（没有定时器）"},
	{regexp.MustCompile(`^script code must be a function body$`), "脚本代码必须是函数体"},
}

// Localized returns the error text in lang ("zh-CN" or English for anything else). The sandbox's
// own messages are translated; a script's exception text (e.g. "TypeError: ...") is kept as is.
func (e *ScriptError) Localized(lang string) string {
	if lang != "zh-CN" && lang != "zh" {
		return e.Error()
	}
	msg := e.Message
	for _, t := range zhMessages {
		if m := t.re.FindStringSubmatchIndex(msg); m != nil {
			msg = string(t.re.ExpandString(nil, t.zh, msg, m))
			break
		}
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s（第 %d 行，第 %d 列）", msg, e.Line, e.Column)
	}
	return msg
}
