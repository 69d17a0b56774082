package engine

// Parameter specs of the core node types: one source for validation (the constructors decode
// the same keys), the builder's property forms (x-widget, labels and help in en and zh-CN)
// and the catalog docs.

var calendarValues, calendarOptions = opts(
	"wall", L("Calendar time (24×7)", "自然时间（全天候）"),
	"business", L("Working hours (business calendar)", "工作时间（工作日历）"))

func calendarParam() ParamSpec {
	return ParamSpec{Key: "calendar", Type: "string", Widget: WidgetCalendar, Enum: calendarValues, Options: calendarOptions,
		Label: L("Count time in", "计时方式"),
		Help:  L("Working hours skip weekends, holidays and nights of the app's business calendar.", "工作时间跳过应用工作日历中的周末、节假日和非工作时段。")}
}

func entityParam(help Lbl) ParamSpec {
	return ParamSpec{Key: "entity", Type: "string", Required: true, Widget: WidgetEntity, Label: L("Entity", "实体"), Help: help.l()}
}

func recordParam(help Lbl) ParamSpec {
	return ParamSpec{Key: "record", Type: "template", Widget: WidgetRecord, Label: L("Record", "记录"), Help: help.l()}
}

// Lbl is an en/zh-CN pair written inline.
type Lbl [2]string

func (l Lbl) l() map[string]string {
	if l[0] == "" {
		return nil
	}
	return L(l[0], l[1])
}

var (
	strategyValues, strategyOptions = opts(
		"round_robin", L("Round robin", "轮流分配"),
		"least_loaded", L("Least open tasks", "待办最少者"),
		"rules", L("By rules", "按规则"))
	withinValues, withinOptions = opts(
		"round_robin", L("Round robin", "轮流分配"),
		"least_loaded", L("Least open tasks", "待办最少者"))
	onTimeoutValues, onTimeoutOptions = opts(
		"reject", L("Reject", "自动驳回"),
		"approve", L("Approve", "自动通过"),
		"escalate", L("Escalate", "升级处理"))
	localeValues, localeOptions = opts("zh-CN", L("Chinese", "中文"), "en", L("English", "英文"))
)

func reportPeriodOptions() []ParamOption {
	labels := map[string]spec2{
		"today": {"Today", "今天"}, "yesterday": {"Yesterday", "昨天"}, "this_week": {"This week", "本周"}, "last_week": {"Last week", "上周"},
		"this_month": {"This month", "本月"}, "last_month": {"Last month", "上月"}, "this_quarter": {"This quarter", "本季度"},
		"last_quarter": {"Last quarter", "上季度"}, "this_year": {"This year", "今年"}, "last_year": {"Last year", "去年"},
		"last_7_days": {"Last 7 days", "最近 7 天"}, "last_30_days": {"Last 30 days", "最近 30 天"},
	}
	out := make([]ParamOption, 0, len(ReportPeriods))
	for _, p := range ReportPeriods {
		l, ok := labels[p]
		if !ok {
			l = spec2{p, p}
		}
		out = append(out, ParamOption{Value: p, Label: L(l[0], l[1])})
	}
	return out
}

type spec2 [2]string

var (
	helpFieldValues = Lbl{"One row per field of the entity; each value may be fixed or an expression over the trigger and earlier steps.", "每个字段一行；值可以固定，也可以是引用触发数据和前面步骤的表达式。"}
	helpPeople      = Lbl{"People by name, everyone in a role, the manager of the record's owner, the person who started the run, or an e-mail address.", "按姓名选人，或选择角色中的所有人、记录负责人的上级、发起人、电子邮箱。"}
)

var nodeSpecs = map[string][]ParamSpec{
	"condition": {{Key: "expr", Type: "expr", Required: true, Widget: WidgetCondition, Label: L("Condition", "条件"),
		Help: L("Continues on the Yes branch when the condition holds, else on the No branch.", "条件成立走“是”分支，否则走“否”分支。")}},
	"switch": {
		{Key: "value", Type: "expr", Widget: WidgetExpression, Label: L("Value", "取值"), Help: L("Expression whose value picks the branch (cases with a fixed value).", "按其值选择分支的表达式（用于固定值分支）。")},
		{Key: "cases", Type: "array", Required: true, Widget: WidgetCases, Label: L("Branches", "分支"), Help: L("Each branch has a name and a condition (or a value); the first that matches wins.", "每个分支有名称和条件（或取值）；按顺序取第一个匹配的分支。")},
		{Key: "default", Type: "string", Label: L("Otherwise branch", "其他情况分支"), Help: L("Branch taken when no case matches (default \"default\").", "没有分支匹配时走的分支（默认 default）。")}},
	"set": {{Key: "values", Type: "template", Required: true, Widget: WidgetFieldValues, Label: L("Values", "数据"),
		Help: L("Named values later steps read as steps.<this node>.<name>; each may be an expression.", "后续步骤以 steps.<本节点>.<名称> 读取的命名数据；每个值都可以是表达式。")}},
	"script": {{Key: "code", Type: "string", Required: true, Widget: WidgetCode, Label: L("JavaScript", "JavaScript 代码"),
		Help: L("Function body; it sees input.trigger and input.steps and returns the step's output. Host API: records, http.fetch, crypto, encoding, log.", "函数体；可读取 input.trigger 与 input.steps，返回值即本步骤输出。可用接口：records、http.fetch、crypto、encoding、log。")}},
	"record.create": {entityParam(Lbl{"Entity of the new record.", "新记录所属的实体。"}),
		{Key: "values", Type: "template", Required: true, Widget: WidgetFieldValues, Label: L("Field values", "字段值"), Help: helpFieldValues.l()}},
	"record.update": {entityParam(Lbl{"Entity of the record to change.", "要修改的记录所属实体。"}),
		{Key: "id", Type: "template", Required: true, Widget: WidgetRecord, Label: L("Record", "记录"), Default: "{{ trigger.record.id }}",
			Help: L("The record to change: the trigger's record or one found by an earlier step.", "要修改的记录：触发记录，或前面步骤找到的记录。")},
		{Key: "values", Type: "template", Required: true, Widget: WidgetFieldValues, Label: L("Field values", "字段值"), Help: helpFieldValues.l()}},
	"record.find": {entityParam(Lbl{"Entity to search.", "要查找的实体。"}),
		{Key: "filter", Type: "template", Widget: WidgetFilter, Label: L("Filter", "筛选条件"), Help: L("Only records matching every condition; empty finds all.", "只查找满足所有条件的记录；为空时查找全部。")},
		{Key: "limit", Type: "number", Label: L("At most", "最多条数"), Help: L("Maximum number of records returned.", "最多返回的记录数。")}},
	"record.delete": {entityParam(Lbl{"Entity of the record to delete.", "要删除的记录所属实体。"}),
		{Key: "id", Type: "template", Required: true, Widget: WidgetRecord, Label: L("Record", "记录"), Default: "{{ trigger.record.id }}",
			Help: L("The record to delete.", "要删除的记录。")}},
	"foreach": {
		{Key: "items", Type: "template", Required: true, Widget: WidgetList, Label: L("List", "列表"), Help: L("The list to go through, e.g. the records an earlier step found.", "要逐项处理的列表，例如前面步骤找到的记录。")},
		{Key: "node", Type: "object", Required: true, Label: L("Step per item", "每项执行的步骤"), Help: L("The step run for each item ({type, params}); it sees item and index.", "对每一项执行的步骤（{type, params}）；可读取 item 与 index。")},
		{Key: "max", Type: "number", Label: L("At most", "最多项数"), Help: L("Maximum number of items (default 1000).", "最多处理的项数（默认 1000）。")}},
	"connector": {
		{Key: "connector", Type: "string", Required: true, Label: L("Connector", "连接器")},
		{Key: "operation", Type: "string", Required: true, Label: L("Operation", "操作")},
		{Key: "credential", Type: "string", Label: L("Credential", "凭据"), Help: L("Saved credential of the app used for the call.", "调用时使用的应用凭据。")},
		{Key: "input", Type: "template", Label: L("Input", "输入"), Help: L("The operation's parameters.", "该操作的参数。")},
		{Key: "optional", Type: "boolean", Label: L("Skip without credential", "无凭据时跳过"), Help: L("Skip the step (output {skipped: true}) when the named credential does not exist.", "指定的凭据不存在时跳过此步骤（输出 {skipped: true}）。")}},
	"delay": {
		{Key: "duration", Type: "duration", Widget: WidgetDuration, Label: L("Wait for", "等待时长"), Help: L("How long to wait, e.g. 2 hours or 3 days.", "等待多久，例如 2 小时或 3 天。")},
		{Key: "until", Type: "template", Widget: WidgetExpression, Label: L("Or until", "或等到"), Help: L("A point in time, e.g. a date field of the record (wins over the duration).", "一个时间点，例如记录的日期字段（优先于等待时长）。")},
		calendarParam()},
	"wait_event": {entityParam(Lbl{"Entity of the record to watch.", "要关注的记录所属实体。"}),
		recordParam(Lbl{"Record to watch (default the trigger's record).", "要关注的记录（默认触发记录）。"}),
		{Key: "condition", Type: "expr", Required: true, Widget: WidgetCondition, Label: L("Until", "直到"), Help: L("Continues on the Event branch once the record meets this condition.", "记录满足此条件时走“事件”分支。")},
		{Key: "timeout", Type: "duration", Required: true, Widget: WidgetDuration, Label: L("Give up after", "超时时间"), Help: L("After this long the Timeout branch is taken.", "超过此时间走“超时”分支。")},
		calendarParam()},
	"task": {
		{Key: "title", Type: "template", Required: true, Widget: WidgetExpression, Label: L("Title", "标题"), Help: L("What the assignee sees in the inbox; may include record fields.", "经办人在待办中看到的标题；可包含记录字段。")},
		{Key: "assignee", Type: "template", Required: true, Widget: WidgetPerson, Label: L("Assignee", "经办人"), Help: helpPeople.l()},
		{Key: "due", Type: "duration", Widget: WidgetDuration, Label: L("Due within", "办理时限"), Help: L("The task is overdue after this long.", "超过此时长任务即逾期。")},
		calendarParam(),
		recordParam(Lbl{"Record the task is about (default the trigger's record).", "任务相关的记录（默认触发记录）。"}),
		{Key: "description", Type: "template", Widget: WidgetExpression, Label: L("Description", "说明")},
		{Key: "remind", Type: "duration", Widget: WidgetDuration, Label: L("Remind after", "提醒时间"), Help: L("Remind the assignee this long after creation while the task is open.", "任务创建后经过此时长仍未完成则提醒经办人。")},
		{Key: "escalate_to", Type: "template", Widget: WidgetPerson, Label: L("Escalate to", "逾期转交给"), Help: L("Who takes over an open task when it is overdue.", "任务逾期后由谁接手。")}},
	"approval": {
		{Key: "title", Type: "template", Required: true, Widget: WidgetExpression, Label: L("Title", "标题"), Help: L("What approvers see in their inbox; may include record fields.", "审批人在待办中看到的标题；可包含记录字段。")},
		recordParam(Lbl{"Record being approved (default the trigger's record).", "审批的记录（默认触发记录）。"}),
		{Key: "levels", Type: "array", Widget: WidgetApprovalLevels, Label: L("Approval levels", "审批层级"), Help: L("Levels in order; each has approvers and whether any one or all of them must approve.", "按顺序审批的层级；每级设置审批人，以及任一人还是所有人通过。")},
		{Key: "routes", Type: "array", Widget: WidgetApprovalRoutes, Label: L("Conditional routes", "条件路线"), Help: L("Other levels when a condition holds; the first matching route wins, else the levels above.", "满足条件时使用的其他层级；取第一个匹配的路线，否则用上面的层级。")},
		{Key: "timeout", Type: "duration", Widget: WidgetDuration, Label: L("Time limit per level", "每级时限"), Help: L("How long each level may take.", "每一级审批的时限。")},
		calendarParam(),
		{Key: "on_timeout", Type: "string", Enum: onTimeoutValues, Options: onTimeoutOptions, Label: L("When the time is up", "超时后"), Help: L("Reject, approve, or hand over to the escalation person.", "自动驳回、自动通过，或转交升级处理人。")},
		{Key: "escalate_to", Type: "template", Widget: WidgetPerson, Label: L("Escalate to", "升级处理人"), Help: L("Who decides when the time is up and the action is Escalate.", "超时且选择升级处理时由谁审批。")},
		{Key: "remind", Type: "duration", Widget: WidgetDuration, Label: L("Remind after", "提醒时间"), Help: L("Remind approvers this long after a level starts.", "每级开始后经过此时长提醒审批人。")}},
	"assign": {
		{Key: "strategy", Type: "string", Required: true, Enum: strategyValues, Options: strategyOptions, Label: L("How to pick", "分配方式")},
		{Key: "users", Type: "array", Widget: WidgetPeople, Label: L("Among", "候选人"), Help: L("People to choose from (round robin / least open tasks).", "从这些人中挑选（轮流 / 待办最少）。")},
		{Key: "team", Type: "template", Label: L("Team", "团队"), Help: L("Or everyone in this team.", "或该团队的所有人。")},
		{Key: "rules", Type: "array", Widget: WidgetAssignRules, Label: L("Rules", "规则"), Help: L("[{when, user|team}] in order; the first matching rule picks.", "按顺序的规则 [{when, user|team}]；取第一个匹配的规则。")},
		{Key: "capacity", Type: "number", Label: L("Open tasks at most", "待办上限"), Help: L("Skip people with this many open tasks.", "跳过待办数已达上限的人。")},
		{Key: "within", Type: "string", Enum: withinValues, Options: withinOptions, Label: L("Inside a matched team", "团队内分配方式"), Help: L("Rules: how to pick inside a matched team.", "按规则匹配到团队后，团队内的分配方式。")},
		recordParam(Lbl{"Record whose owner becomes the chosen person (optional).", "将所选人员设为该记录的负责人（可选）。"}),
		{Key: "entity", Type: "string", Widget: WidgetEntity, Label: L("Entity", "实体"), Help: L("Entity of that record.", "该记录所属的实体。")}},
	"subflow": {
		{Key: "flow", Type: "string", Required: true, Widget: WidgetFlow, Label: L("Flow", "流程"), Help: L("Published flow of this app to run.", "要运行的本应用已发布流程。")},
		{Key: "input", Type: "template", Widget: WidgetExpression, Label: L("Input", "输入"), Help: L("Data handed to the sub-flow as trigger.input.", "作为 trigger.input 传给子流程的数据。")},
		{Key: "wait", Type: "boolean", Label: L("Wait for it to finish", "等待其完成"), Help: L("Continue only after the sub-flow finished; its output becomes this step's.", "子流程完成后再继续；其输出即本步骤输出。")}},
	"report": {
		{Key: "report", Type: "string", Required: true, Widget: WidgetReport, Label: L("Report", "报表"), Help: L("A published report of this app.", "本应用已发布的报表。")},
		{Key: "period", Type: "string", Enum: ReportPeriods, Options: reportPeriodOptions(), Label: L("Period", "时间范围"), Help: L("Date range in the app's time zone (wins over from/to).", "应用时区内的日期范围（优先于起止日期）。")},
		{Key: "from", Type: "template", Widget: WidgetExpression, Label: L("From", "开始日期"), Help: L("YYYY-MM-DD or RFC 3339, inclusive.", "YYYY-MM-DD 或 RFC 3339，含当天。")},
		{Key: "to", Type: "template", Widget: WidgetExpression, Label: L("To", "结束日期"), Help: L("YYYY-MM-DD (that day included) or RFC 3339.", "YYYY-MM-DD（含当天）或 RFC 3339。")},
		{Key: "filter", Type: "template", Widget: WidgetFilter, Label: L("Extra filter", "附加筛选"), Help: L("AND-ed with the report's own filter.", "与报表自身的筛选条件同时生效。")},
		{Key: "locale", Type: "string", Enum: localeValues, Options: localeOptions, Label: L("Language", "语言")},
		{Key: "limit", Type: "number", Label: L("Rows at most", "最多行数"), Help: L("Maximum rows kept (default the report's, at most 5000).", "最多保留的行数（默认按报表，最多 5000）。")}},
	"people": {
		{Key: "to", Type: "template", Required: true, Widget: WidgetPeople, Label: L("People", "人员"), Help: helpPeople.l()}},
	"tracking_link": {
		{Key: "type", Type: "string", Required: true, Label: L("Activity type", "活动类型"), Help: L("Activity added to the record when the link is opened, e.g. email_opened.", "打开链接时给记录添加的活动类型，例如 email_opened。")},
		recordParam(Lbl{"Record the activity is added to (default: the trigger's record).", "添加活动的记录（默认：触发记录）。"}),
		{Key: "entity", Type: "string", Widget: WidgetEntity, Label: L("Entity", "实体"), Help: L("Entity of that record (default: the trigger's).", "该记录所属的实体（默认：触发实体）。")}},
	"notify": {
		{Key: "to", Type: "template", Required: true, Widget: WidgetPeople, Label: L("Recipients", "接收人"), Help: helpPeople.l()},
		{Key: "title", Type: "template", Required: true, Widget: WidgetExpression, Label: L("Title", "标题")},
		{Key: "body", Type: "template", Widget: WidgetExpression, Label: L("Message", "内容")},
		recordParam(Lbl{"Record the notification links to.", "通知链接到的记录。"}),
		{Key: "link", Type: "string", Label: L("Link", "链接"), Help: L("Page of this app the notification opens, e.g. /apps/sales/reports/weekly-leads.", "通知打开的本应用页面，例如 /apps/sales/reports/weekly-leads。")}},
}

// paramsOf returns the spec of a core node type.
func paramsOf(name string) []ParamSpec { return nodeSpecs[name] }

// nodeDescriptions is the one-line help of each core node type.
var nodeDescriptions = map[string]map[string]string{
	"condition":     L("Splits the flow in two: Yes when the condition holds, No otherwise.", "按条件把流程分成两路：条件成立走“是”，否则走“否”。"),
	"switch":        L("Picks one of several branches by conditions or a value.", "按条件或取值从多个分支中选择一个。"),
	"set":           L("Computes named values for later steps.", "计算命名数据，供后续步骤使用。"),
	"transform":     L("Older name of Set values: computes named values for later steps.", "“设置数据”的旧名称：计算命名数据，供后续步骤使用。"),
	"script":        L("Runs JavaScript in a sandbox; its return value is the step's output.", "在沙箱中运行 JavaScript；返回值即本步骤输出。"),
	"record.create": L("Creates a record with the given field values.", "用给定的字段值新建一条记录。"),
	"record.update": L("Changes fields of a record.", "修改一条记录的字段。"),
	"record.find":   L("Finds records matching a filter.", "查找满足条件的记录。"),
	"record.delete": L("Deletes a record.", "删除一条记录。"),
	"foreach":       L("Runs one step for each item of a list.", "对列表中的每一项执行一个步骤。"),
	"connector":     L("Calls an operation of a connector (e-mail, HTTP, DingTalk…).", "调用连接器的操作（邮件、HTTP、钉钉等）。"),
	"delay":         L("Waits for a time or until a point in time.", "等待一段时间或直到某个时间点。"),
	"wait_event":    L("Waits until a record meets a condition, or times out.", "等待记录满足条件，或超时。"),
	"task":          L("Gives a person a task in their inbox and waits until it is done.", "给某人发一条待办，并等待其完成。"),
	"approval":      L("Asks approvers level by level; continues on Approved or Rejected.", "逐级请审批人审批；按“通过”或“驳回”继续。"),
	"assign":        L("Picks a person (round robin, least loaded or by rules) and can make them the record's owner.", "挑选一个人（轮流、待办最少或按规则），并可设为记录负责人。"),
	"subflow":       L("Runs another flow of this app.", "运行本应用的另一个流程。"),
	"report":        L("Runs a report; later steps can send or store its rows.", "运行报表；后续步骤可发送或保存其结果。"),
	"notify":        L("Sends an in-app notification.", "发送站内通知。"),
	"people":        L("Finds people by role, manager or e-mail: their names and addresses (e.g. to e-mail a report).", "按角色、上级或邮箱查找人员：姓名和邮箱（例如用于邮件发送报表）。"),
	"tracking_link": L("Makes a signed link and an e-mail pixel that add an activity (e.g. email_opened) to a record when opened.", "生成签名链接和邮件像素，打开时给记录添加活动（如 email_opened）。"),
}
