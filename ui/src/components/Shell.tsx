import {
  AppstoreOutlined, AuditOutlined, CheckSquareOutlined, LogoutOutlined, SafetyOutlined, TeamOutlined,
  ThunderboltOutlined, UserOutlined,
} from '@ant-design/icons';
import { Avatar, Dropdown, Layout, Menu, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { useLogout, useMe } from '../api/auth';
import LangSwitch from './LangSwitch';
import NotificationBell from './NotificationBell';

const { Sider, Header, Content } = Layout;

/** App shell: side navigation, header with language switch and user menu. */
export default function Shell() {
  const { t } = useTranslation();
  const me = useMe().data;
  const nav = useNavigate();
  const loc = useLocation();
  const logout = useLogout();

  const items = [
    { key: '/apps', icon: <AppstoreOutlined />, label: t('nav.apps') },
    { key: '/templates', icon: <ThunderboltOutlined />, label: t('nav.templates') },
    { key: '/tasks', icon: <CheckSquareOutlined />, label: t('nav.tasks') },
    ...(me?.is_admin
      ? [
          {
            key: 'admin',
            icon: <SafetyOutlined />,
            label: t('nav.admin'),
            children: [
              { key: '/admin/users', icon: <UserOutlined />, label: t('nav.users') },
              { key: '/admin/teams', icon: <TeamOutlined />, label: t('nav.teams') },
              { key: '/admin/roles', icon: <SafetyOutlined />, label: t('nav.roles') },
              { key: '/admin/audit', icon: <AuditOutlined />, label: t('nav.audit') },
            ],
          },
        ]
      : []),
  ];
  const selected = items
    .flatMap((i) => ('children' in i && i.children ? i.children.map((c) => c.key) : [i.key]))
    .filter((k) => loc.pathname.startsWith(k));

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Sider breakpoint="lg" collapsible theme="dark" width={208}>
        <div className="brand">Tessera</div>
        <Menu
          theme="dark"
          mode="inline"
          data-testid="side-nav"
          selectedKeys={selected}
          defaultOpenKeys={loc.pathname.startsWith('/admin') ? ['admin'] : []}
          items={items}
          onClick={(e) => nav(e.key)}
        />
      </Sider>
      <Layout>
        <Header style={{ background: '#fff', padding: '0 24px', display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 16, borderBottom: '1px solid #f0f0f0' }}>
          <NotificationBell />
          <LangSwitch size="small" />
          <Dropdown
            trigger={['click']}
            menu={{
              items: [
                { key: 'email', label: me?.email, disabled: true },
                { type: 'divider' },
                { key: 'logout', icon: <LogoutOutlined />, label: <span data-testid="logout">{t('nav.logout')}</span> },
              ],
              onClick: async (e) => {
                if (e.key === 'logout') {
                  await logout();
                  nav('/login', { replace: true });
                }
              },
            }}
          >
            <Space style={{ cursor: 'pointer' }} data-testid="user-menu">
              <Avatar size="small" icon={<UserOutlined />} />
              <Typography.Text>{me?.name || me?.email}</Typography.Text>
            </Space>
          </Dropdown>
        </Header>
        <Content style={{ padding: 24, overflow: 'auto' }}>
          <Outlet />
        </Content>
      </Layout>
    </Layout>
  );
}
