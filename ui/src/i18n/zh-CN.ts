// 简体中文界面文字。每个键也必须出现在 en.ts 中（i18n.test.ts 会检查）。
const zhCN = {
  common: {
    invalidJson: 'JSON 格式不正确', apply: '应用', cancel: '取消', clear: '清除', confirmDelete: '确定删除？', delete: '删除', design: '设计',
    edit: '编辑', entity: '实体', loadMore: '加载更多', new: '新建', none: '暂无', notFound: '页面不存在。',
    required: '必填', save: '保存', slug: '标识（slug）',
  },
  login: {
    email: '邮箱', password: '密码', submit: '登录', subtitle: '低代码自动化平台：表单、流程与报表。',
    invalid: '邮箱或密码错误。',
  },
  nav: {
    apps: '应用', templates: '模板', tasks: '我的待办', admin: '系统管理', users: '用户', teams: '团队',
    roles: '角色', audit: '审计日志', logout: '退出登录',
  },
  apps: {
    title: '应用', create: '新建应用', created: '应用已创建', empty: '还没有应用。', fromTemplate: '从模板开始',
    name: '名称', slug: '标识（slug）', slugHelp: '小写字母、数字和连字符，以字母开头。',
  },
  app: { export: '导出' },
  kinds: { entities: '实体', forms: '表单', flows: '流程', reports: '报表', dashboards: '仪表盘' },
  templates: { title: '模板库', install: '安装', installed: '模板已安装' },
  def: {
    saveDraft: '保存草稿', publish: '发布', versions: '版本', saved: '草稿已保存', published: '已发布版本 {{version}}',
    invalid: '定义有错误', noVersions: '尚未发布', draft: '草稿',
  },
  entity: {
    designer: '实体设计器', openRecords: '查看数据', fields: '字段', addField: '添加字段', editField: '编辑字段',
    noFields: '还没有字段，请添加第一个。', key: '键', keyHelp: '小写字母、数字和下划线，以字母开头。',
    keyTaken: '已有字段使用此键', type: '类型', labelZh: '名称（中文）', labelEn: '名称（英文）',
    required: '必填', unique: '唯一', indexed: '索引', sensitive: '个人信息', options: '选项',
    optionsHelp: '输入选项后按回车。', min: '最小值', max: '最大值', precision: '小数位', currency: '币种',
    region: '默认地区', maxLength: '最大长度', pattern: '格式（正则）', target: '关联实体', multiple: '允许多个',
    accept: '允许的文件类型', maxSize: '最大字节数', prefix: '前缀', formula: '公式（expr）', default: '默认值',
    description: '备注', dragToReorder: '拖动排序', titleField: '标题字段', stages: '阶段与门禁',
    stageField: '阶段字段', stageFieldHelp: '选择一个单选字段', stageOrder: '顺序', stage: '阶段',
    probability: '赢单概率（0-1）', terminal: '终止阶段', gates: '门禁（阶段跃迁规则）', from: '从', to: '到',
    require: '条件，例如 any(record.files, {.name contains "报价单"})', gateMessage: '阻止时提示的消息',
    addGate: '添加门禁', strict: '只允许列出的跃迁', dedupe: '查重',
    dedupeHelp: '新记录与任一组键的全部字段相同即视为重复。', addDedupeKey: '添加键组',
    onDuplicate: '重复时', merge: '合并到已有记录', reject: '拒绝', applyJson: '应用 JSON',
  },
  fieldTypes: {
    text: '单行文本', textarea: '多行文本', number: '数字', money: '金额', percent: '百分比', email: '邮箱', phone: '电话',
    url: '网址', date: '日期', datetime: '日期时间', select: '单选', multiselect: '多选', boolean: '是/否',
    user: '用户', team: '团队', relation: '关联', attachment: '附件', autonumber: '自动编号', formula: '公式',
  },
  records: {
    new: '新建记录', edit: '编辑记录', created: '记录已创建', merged: '已合并到现有记录', saved: '记录已保存',
    deleted: '记录已删除', conflict: '该记录已被他人修改，请刷新后重试。',
    search: '搜索', filter: '筛选', field: '字段', value: '值', addCondition: '添加条件', createdAt: '创建时间',
    updatedAt: '更新时间', table: '表格', pipeline: '阶段看板', moved: '已移至 {{stage}}', gateBlocked: '阶段变更被阻止',
    noEntity: '该实体尚未发布。', details: '详情', history: '时间线', upload: '上传',
  },
  ops: {
    eq: '等于', ne: '不等于', contains: '包含', gt: '>', gte: '≥', lt: '<', lte: '≤', in: '属于 (a,b)', empty: '为空',
  },
  history: {
    created: '创建', updated: '修改', deleted: '删除', stage: '阶段变更', stage_changed: '阶段变更',
    merged: '合并', attached: '添加附件',
  },
  forms: {
    designer: '表单设计器', fill: '填写', palette: '实体字段', dropHere: '把字段拖到这里', allPlaced: '所有字段都已放置。',
    addAll: '添加全部字段', itemProps: '字段设置', settings: '表单设置', hidden: '隐藏', width: '宽度（1-24）',
    public: '公开表单（无需登录）', titleZh: '标题（中文）', titleEn: '标题（英文）', defaults: '默认值',
    defaultsHelp: '每行一个 key=value，例如 source=web', hiddenParams: '采集的 URL 参数', successMessage: '提交成功提示',
    consent: '同意条款（个人信息保护）', submit: '提交', submitted: '已提交', thanks: '感谢您的提交。',
    again: '再填一份', notFound: '该表单尚未发布。', isPublic: '该表单同时公开。',
  },
  flows: {
    credential: '凭据（名称）',
    designer: '流程设计器', palette: '节点', trigger: '触发器', triggerType: '触发类型', node: '节点', nodeType: '节点类型',
    nodeName: '显示名称', operation: '连接器操作', params: '参数（JSON）', otherParams: '其他参数（JSON）',
    run: '运行', runs: '运行记录', runInput: '作为 trigger.body 传给本次运行的输入（JSON）。', started: '已开始运行',
    noCatalog: '节点目录不可用：只显示核心节点类型，无参数表单。', condition: '条件（expr）',
    mode: '模式', schedule: 'Cron 计划', timezone: '时区', webhookKey: 'Webhook 键', whenFields: '仅当这些字段变化时',
    pollTrigger: '连接器触发器', interval: '轮询间隔', intervalHelp: '1m 到 24h，例如 5m 或 1h。',
    pollHelp: '每个新条目启动一次运行，用 trigger.item 读取。', noPollTriggers: '没有连接器提供轮询触发器。',
    pollOk: '轮询正常：已启动 {{count}} 个条目。', pollFailed: '最近一次轮询失败（连续 {{count}} 次）：{{error}}',
    pollTimes: '上次轮询 {{last}}，下次 {{next}}。',
    cat: { logic: '逻辑', integrations: '集成', timing: '定时', control: '流程控制', records: '数据记录', people: '人员协作', connectors: '连接器', data: '数据与脚本' },
  },
  triggers: {
    manual: '手动', webhook: 'Webhook', cron: '定时（cron）', poll: '新条目（轮询）',
    record: { created: '记录创建', updated: '记录修改', deleted: '记录删除' },
    stage: { changed: '阶段变更' },
    form: { submitted: '表单提交' },
  },
  nodes: {
    condition: '条件', switch: '多分支', set: '设置变量', script: '脚本（JavaScript）', assign: '分配负责人', delay: '延时',
    wait_event: '等待事件', task: '人工任务', approval: '审批', connector: '连接器', subflow: '子流程', foreach: '循环', report: '运行报表', notify: '站内通知',
    record: { create: '新建记录', update: '更新记录', find: '查找记录', delete: '删除记录' },
  },
  runs: {
    run: '运行', status: '状态', version: '版本', trigger: '触发', started: '开始时间', finished: '结束时间', flow: '流程',
    output: '输出', retry: '重试', retried: '已加入重试',
  },
  runStatus: { queued: '排队中', running: '运行中', waiting: '等待中', succeeded: '成功', failed: '失败', canceled: '已取消' },
  tasks: {
    open: '待处理', done: '已完成', all: '全部', title: '任务', kind: '类型', approval: '审批', task: '任务', due: '截止',
    overdue: '已超期', reminded: '已催办', context: '关联', record: '记录', outcome: '结果', approve: '同意', reject: '驳回',
    complete: '完成', completed: '任务已完成', comment: '意见（可选）',
    outcomes: { approve: '同意', reject: '驳回', done: '完成', approved: '已同意', rejected: '已驳回', comment: '评论' },
  },
  notifications: {
    title: '通知', empty: '暂无通知', markRead: '标为已读', markAllRead: '全部已读', openInbox: '我的待办',
    msg: {
      task_assigned: '新待办：{{title}}', approval_assigned: '待审批：{{title}}',
      task_reminder: '催办：待办尚未完成：{{title}}', approval_reminder: '催办：审批尚未处理：{{title}}',
      task_escalated: '超时升级给您：{{title}}', task_delegated: '转交给您：{{title}}',
      task_delegated_by: '{{by}} 转交给您：{{title}}', approval_approved: '已通过：{{title}}', approval_rejected: '已驳回：{{title}}',
    },
  },
  reports: {
    builder: '报表设计器', view: '查看', kind: '类型', dimensions: '维度', measures: '指标', addDimension: '添加维度',
    addMeasure: '添加指标', bucket: '时间粒度', chart: '图表', compare: '同比/环比', limit: '行数上限', filters: '筛选（JSON）',
    params: '类型参数（JSON）', preview: '实时预览', owner: '负责人', team: '团队', export: '导出',
    exportAs: { csv: 'CSV（.csv）', xlsx: 'Excel（.xlsx）' }, refresh: '刷新', fields: '字段',
    dragHelp: '把字段拖到“维度”或“指标”上。', pickEntity: '请先选择实体。', dropHere: '拖放字段到这里',
    sort: '排序', asc: '升序', desc: '降序', limitHelp: '前 N 名：排序后只保留前 N 行（1-10000）。',
    invalid: '报表定义有错误'
  },
  reportKinds: {
    table: '明细表', pivot: '透视表', funnel: '漏斗', dwell: '阶段停留时长', kpi: '关键指标', stagnation: '停滞清单',
    penetration: '阶段渗透率', forecast: '加权预测', compare: '同比/环比', cycle: '周期时长',
  },
  aggs: { count: '计数', count_distinct: '去重计数', sum: '求和', avg: '平均', min: '最小', max: '最大', median: '中位数', rate: '占比%' },
  charts: { bar: '柱状图', line: '折线图', pie: '饼图', funnel: '漏斗图', heatmap: '热力图', table: '仅表格' },
  buckets: { day: '日', week: '周', month: '月', quarter: '季度', year: '年' },
  dashboards: {
    view: '查看', addWidget: '添加组件', dateRange: '日期范围', filter: '筛选（JSON）', applyFilters: '应用',
    clearFilters: '重置', widgetError: '此组件加载失败',
  },
  reportParams: {
    funnel: '例如 {"stages":["new_lead","proposal","won"]}', dwell: '例如 {"include_open":true,"stuck":3}',
    stagnation: '例如 {"days":7,"stage":"proposal"}', penetration: '例如 {"from_stage":"demo_done","to_stage":"proposal","hours":72}',
    forecast: '例如 {"amount":"amount"}', cycle: '例如 {"to_stage":"won"}', pivot: '例如 {"date_field":"expected_close"}',
  },
  admin: {
    name: '姓名', status: '状态', admin: '平台管理员', disabled: '已停用', active: '正常', newUser: '新建用户',
    resetPassword: '新密码（留空不修改）', assignRoles: '角色', saved: '已保存', newTeam: '新建团队', parentTeam: '上级团队',
    manager: '负责人', newRole: '新建角色', builtin: '内置', permissions: '权限', resource: '资源', scope: '数据范围',
    fieldRules: '字段权限', hiddenFields: '隐藏字段', readonlyFields: '只读字段', at: '时间', actor: '操作人',
    action: '操作', target: '对象',
  },
  actions: {
    read: '查看', create: '新建', update: '修改', delete: '删除', export: '导出', run: '运行', publish: '发布', manage: '管理',
  },
  scopes: { own: '本人', team: '本团队', team_tree: '本团队及下级', all: '全部' },
};

export default zhCN;
