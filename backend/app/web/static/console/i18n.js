// Chinese first; English on request. Keys are the Chinese words a trader knows (CONSOLE.md), so
// the page reads correctly even where a translation is missing.

const EN = {
  'qmt-api 交易终端': 'qmt-api Trading Console', 'A股交易网关 · MiniQMT': 'A-share gateway · MiniQMT',
  '用户名': 'Username', '密码': 'Password', '登录': 'Log in', '退出': 'Log out', 'English': '中文',
  'API 文档': 'API docs', '视图': 'Views', '交易': 'Trade', '策略': 'Strategies', '风控': 'Risk',
  '用户': 'Users', '审计日志': 'Audit log', '下单': 'Order ticket', '买入': 'Buy', '卖出': 'Sell',
  '撤单': 'Cancel', '证券代码': 'Code', '证券名称': 'Name', '报价方式': 'Price type', '限价': 'Limit',
  '市价': 'Market', '委托价格': 'Price', '委托数量': 'Quantity', '涨停': 'Limit up', '跌停': 'Limit down',
  '可买': 'Can buy', '可卖': 'Can sell', '全部': 'All', '五档行情': 'Order book', '资产': 'Account',
  '持仓': 'Positions', '当日委托': "Today's orders", '当日成交': "Today's fills", '可撤': 'Open',
  '全部撤单': 'Cancel all', '取消': 'Cancel', '确定': 'OK', '总资产': 'Total assets',
  '可用资金': 'Available cash', '冻结资金': 'Frozen cash', '持仓市值': 'Market value',
  '浮动盈亏': 'Unrealized P/L', '持仓数量': 'Volume', '可用数量': 'Sellable', '冻结数量': 'Frozen',
  '成本价': 'Avg cost', '现价': 'Last', '市值': 'Value', '盈亏比例': 'P/L %', '委托时间': 'Time',
  '买卖': 'Side', '成交数量': 'Filled', '成交均价': 'Avg fill', '状态': 'Status', '成交时间': 'Time',
  '成交价格': 'Price', '成交金额': 'Amount', '费用': 'Fees', '操作': 'Action', '无持仓': 'No positions',
  '今日无委托': 'No orders today', '今日无成交': 'No fills today', '无可撤委托': 'No open orders',
  '待报': 'Pending', '已报': 'Reported', '已报待撤': 'Cancelling', '部成': 'Part filled',
  '已成': 'Filled', '已撤': 'Cancelled', '部撤': 'Part cancelled', '废单': 'Rejected',
  '已连接': 'Connected', '重连中': 'Reconnecting', '未连接': 'Disconnected', '券商已连接': 'Broker up',
  '券商未连接': 'Broker down', '模拟盘': 'Simulated', '实盘': 'LIVE', '交易开启': 'Trading on',
  '交易暂停': 'Trading halted', '休市': 'Closed', '盘前': 'Pre-open', '集合竞价': 'Call auction',
  '连续竞价': 'Continuous', '午间休市': 'Lunch break', '收盘集合竞价': 'Closing auction',
  '卖': 'Ask ', '买': 'Bid ', '最新': 'Last', '昨收': 'Prev close', '手': 'lots', '每手': 'Lot',
  '最小变动': 'Tick', '红涨绿跌': 'Red up', '绿涨红跌': 'Green up',
  '委托已提交': 'Order submitted', '重复提交，未再下单': 'Duplicate: nothing new was placed',
  '撤单已提交': 'Cancel sent', '没有可撤的委托': 'No open orders to cancel',
  '撤销全部可撤委托？': 'Cancel all open orders?', '交易开关': 'Kill switch',
  '停止交易': 'Halt trading', '恢复交易': 'Resume trading', '原因': 'Reason', '风控规则': 'Risk rules',
  '保存规则': 'Save rules', '规则已保存': 'Rules saved', '新增用户': 'Add user', '角色': 'Role',
  '启用': 'Active', '停用': 'Disable', '创建时间': 'Created', '创建': 'Create', '时间': 'Time',
  '动作': 'Action', '对象': 'Target', '结果': 'Outcome', '来源地址': 'Client IP', '详情': 'Detail',
  '查询': 'Search', '加载更多': 'Load more', '起始时间': 'Since', '策略文件': 'Strategy files',
  '运行参数': 'Run parameters', '回测': 'Backtest', '实盘运行': 'Run live', '运行记录': 'Runs',
  '收益率': 'Return', '最大回撤': 'Max drawdown', '夏普': 'Sharpe', '胜率': 'Win rate',
  '停止': 'Stop', '模式': 'Mode', '开始': 'Started', '结束': 'Finished', '运行日志': 'Run log',
  '权益曲线与回撤': 'Equity and drawdown', '策略参数': 'Parameters', '周期': 'Period',
  '开始日期': 'Start date', '结束日期': 'End date', '初始资金': 'Initial cash', '种子': 'Seed',
  '运行中': 'Running', '已完成': 'Finished', '失败': 'Failed', '已停止': 'Stopped', '年化': 'Annual',
  '成交笔数': 'Trades', '期末权益': 'Final equity', '无策略文件': 'No strategy files',
  '暂无运行': 'No runs yet', '选择一次运行查看详情': 'Pick a run to see its details',
  '交易已暂停：交易开关已关闭，新委托不会被接受；撤单仍可进行。':
    'Trading is halted by the kill switch: new orders are refused; cancels still work.',
  '只读账户：没有下单权限。': 'Read-only user: no order ticket.',
  '登录已失效，请重新登录': 'Session expired, please log in again',
  '关闭后所有新委托都会被拒绝（TRADING_DISABLED），撤单仍可进行。':
    'While off, every new order is refused (TRADING_DISABLED); cancels still work.',
  '打开后恢复接受新委托。': 'New orders will be accepted again.', '查看': 'View',
  '是': 'yes', '否': 'no', '单笔委托金额上限（元，仅买入）': 'Max order value (CNY, buys)',
  '单笔委托数量上限（股）': 'Max order quantity (shares)',
  '单只股票持仓市值上限（元，仅买入）': 'Max position value per stock (CNY, buys)',
  '每日委托笔数上限': 'Max orders per day', '每日委托金额上限（元）': 'Max daily turnover (CNY)',
  '委托价偏离最新价上限（%）': 'Max price deviation from last (%)',
  '禁止交易代码（逗号分隔）': 'Blocked codes (comma separated)',
  '只允许交易代码（逗号分隔）': 'Allowed codes only (comma separated)',
  '重复委托检测窗口（秒）': 'Duplicate window (seconds)', '窗口内相同委托上限': 'Max identical orders in window',
  '留空或 0 表示不限制': 'Empty or 0 means no limit', '用户已创建': 'User created',
  '已更新': 'Updated', '全部动作': 'All actions', '代码': 'Codes', '参数（每行 名称=值）': 'Params (name=value per line)',
  '运行已开始': 'Run started', '确认以实盘账户运行策略？': 'Run the strategy against the trading account?',
  '策略将通过本网关的券商账户下单（模拟盘或实盘），直到停止。':
    'The strategy places orders through this gateway\'s broker account (simulated or live) until stopped.',
  '推送': 'Stream', '回撤': 'Drawdown', '上': 'top', '下': 'bottom', '运行': 'Run', '日志共': 'Log lines:', '行': '', '显示最近': 'showing the last',
};

let lang = localStorage.getItem('qmt.lang') === 'en' ? 'en' : 'zh';
const listeners = [];

export const getLang = () => lang;
export function t(zh) {
  return lang === 'en' ? (EN[zh] ?? zh) : zh;
}
export function onLangChange(fn) { listeners.push(fn); }

export function setLang(next) {
  lang = next;
  localStorage.setItem('qmt.lang', lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  applyStatic();
  listeners.forEach((fn) => fn(lang));
}

/** Translate the static page: elements marked data-t, and aria-labels (originals kept in data-zh*). */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-t]')) {
    if (!el.dataset.zh) el.dataset.zh = el.textContent;
    el.textContent = t(el.dataset.zh);
  }
  for (const el of root.querySelectorAll('[aria-label]')) {
    if (!el.dataset.zhAria) el.dataset.zhAria = el.getAttribute('aria-label');
    el.setAttribute('aria-label', t(el.dataset.zhAria));
  }
  document.title = t('qmt-api 交易终端');
}
