// 简体中文界面文字。每个键也必须出现在 en.ts 中（i18n.test.ts 会检查）。
const zhCN = {
  common: {
    apply: '应用', cancel: '取消', clear: '清除', confirmDelete: '确定删除？', delete: '删除', design: '设计',
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
};

export default zhCN;
