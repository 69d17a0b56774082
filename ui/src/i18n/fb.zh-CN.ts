// 流程构建器组件的中文文案（作为 `fb` 并入 zh-CN.ts）。
const fb = {
  add: '添加', addLevel: '添加审批层级', addRoute: '添加条件路线', autoLayout: '自动排列节点', down: '下移', up: '上移',
  entityUnknown: '实体 {{entity}} 尚未发布。', expression: '表达式', useExpression: '此字段使用表达式',
  fastForward: '快进到下一个计时', fastForwarded: '模拟时间已越过下一个计时',
  fullScreen: '全屏', lastRun: '最近一次测试运行', level: '第 {{n}} 级', levelName: '层级名称', minimap: '缩略图',
  modeAll: '所有人都需通过', modeAny: '任一人通过即可', paletteHelp: '点击添加到所选节点之后，或拖到画布上。',
  pickEntity: '选择实体', pickRecord: '按名称搜索{{entity}}记录', publishAndTest: '发布并测试', startTest: '开始测试运行',
  route: '路线 {{n}}', routeWhen: '当', runDetails: '运行详情',
  scriptHelp: 'input.trigger 与 input.steps 为运行数据；返回值即步骤输出。Ctrl+空格 可补全字段和接口（records、http.fetch、crypto、encoding、log）。',
  scriptTitle: 'JavaScript', stepInput: '输入', stepOutput: '输出', test: '测试',
  testManualInput: '运行的输入（JSON），以 trigger.input 读取。', testNeedsEntity: '请先选择触发器的实体（或表单）。',
  testNoSample: '定时流程无需样本：运行就像计划此刻触发一样开始。', testOnRecord: '运行将如同这条记录触发了流程：',
  testPublishes: '测试运行使用已发布的流程：将先保存并发布您的修改。', testRun: '测试运行', testRunStatus: '测试运行：',
  testStarted: '测试运行已开始', testWebhookBody: 'Webhook 的样本请求体（JSON，下次测试沿用）。',
  triggerCondition: '仅当', valueName: '新数据的名称',
  runHidden: '此运行属于您无权打开的流程。您的待办中可查看其记录和已有的审批意见。', openTasks: '打开我的待办',
  cron: { invalid: '不是有效的计划', next: '接下来的运行时间（{{tz}}）：', preset: '常用计划', hourly: '每小时', daily9: '每天 9:00', weekdays9: '工作日 9:00', monday9: '每周一 9:00', monthly1: '每月 1 日 9:00' },
  people: {
    email: '电子邮箱', other: '其他', owner: '记录负责人', ownerManager: '记录负责人的上级', pick: '人员、角色…',
    role: '角色“{{role}}”中的所有人', roles: '角色', special: '与运行相关', starter: '发起人', users: '人员',
  },
  record: { default: '触发记录', found: '{{name}} 找到的第一条记录', step: '{{name}} 的记录', trigger: '触发记录' },
  unit: { m: '分钟', h: '小时', d: '天' },
  webhook: { generate: '生成', sample: '示例请求', secret: '签名密钥', secretHelp: '调用方用 HMAC-SHA256 对请求体签名，放在 X-Tessera-Signature 中。', url: '地址' },
};
export default fb;
