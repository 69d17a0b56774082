package notify

import "fmt"

// Render returns a notification's message in each language ("en", "zh-CN"), for API clients
// and e-mail; the web UI renders kind + params itself with the same wording.
func Render(kind, title string, params map[string]any) map[string]string {
	approval := params["task_kind"] == "approval"
	switch kind {
	case KindTaskAssigned:
		if approval {
			return texts("Approval requested: %s", "待审批：%s", title)
		}
		return texts("New task: %s", "新待办：%s", title)
	case KindTaskReminder:
		if approval {
			return texts("Reminder: approval still pending: %s", "催办：审批尚未处理：%s", title)
		}
		return texts("Reminder: task still open: %s", "催办：待办尚未完成：%s", title)
	case KindTaskEscalated:
		return texts("Escalated to you (overdue): %s", "超时升级给您：%s", title)
	case KindTaskDelegated:
		return texts("Delegated to you: %s", "转交给您：%s", title)
	case KindApprovalDecided:
		if params["outcome"] == "approved" {
			return texts("Approved: %s", "已通过：%s", title)
		}
		return texts("Rejected: %s", "已驳回：%s", title)
	case KindRunFailed:
		return texts("Flow failed: %s", "流程运行失败：%s", title)
	case KindMention:
		by, _ := params["by_name"].(string)
		return map[string]string{"en": fmt.Sprintf("%s mentioned you on %s", by, title), "zh-CN": fmt.Sprintf("%s 在「%s」中提到了您", by, title)}
	case KindIntakePending:
		return texts("A new submission matches %s: review it", "新提交与 %s 重复：请审核", title)
	}
	return map[string]string{"en": title, "zh-CN": title}
}

func texts(en, zh, title string) map[string]string {
	return map[string]string{"en": fmt.Sprintf(en, title), "zh-CN": fmt.Sprintf(zh, title)}
}
