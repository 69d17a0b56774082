import {
  AppstoreOutlined, AuditOutlined, BarChartOutlined, CheckSquareOutlined, DashboardOutlined, FormOutlined, LogoutOutlined,
  MenuOutlined, SafetyOutlined, TableOutlined, TeamOutlined, ThunderboltOutlined, UserOutlined,
} from '@ant-design/icons';
import { Avatar, Button, Drawer, Dropdown, Grid, Layout, Menu, Space, Spin } from 'antd';
import { Suspense, lazy, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { useLogout, useMe } from '../api/auth';
import { appAccess, defList, useApp } from '../api/defs';
import { labelText } from '../lib/labels';
import LangSwitch from './LangSwitch';
import NotificationBell from './NotificationBell';
import { Text } from './Text';

// antd's Result (403 illustration) loads only when shown: the app frame is part of the first page.
const DesignRefused = lazy(() => import('./DesignRefused'));

const { Sider, Header, Content } = Layout;

/** The app a path is inside (/apps/{app}/...), or ''. */
export function appOfPath(path: string): string {
  const m = /^\/apps\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : '';
}

/** Whether a path is a builder screen (designers, flow editor): only designers may open them. */
export function isDesignPath(path: string): boolean {
  return /^\/apps\/[^/]+\/(entities|forms|flows|reports)\/[^/]+\/design\/?$/.test(path) || /^\/apps\/[^/]+\/flows\/[^/]+\/?$/.test(path);
}

/** App shell: side navigation built from what the user may use, header with language switch and user menu. */
export default function Shell() {
  const { t, i18n } = useTranslation();
  const me = useMe().data;
  const nav = useNavigate();
  const loc = useLocation();
  const logout = useLogout();
  const appSlug = appOfPath(loc.pathname);
  const appQ = useApp(appSlug || undefined);
  const access = appAccess(appQ.data);
  const lang = i18n.language;
  // Phones get the navigation in a drawer opened from the header, so pages use the full width.
  const screens = Grid.useBreakpoint();
  const phone = screens.md === false;
  const [navOpen, setNavOpen] = useState(false);
  useEffect(() => setNavOpen(false), [loc.pathname]);

  // The open app's views, forms, dashboards and reports the user may use.
  const appItems = appSlug && appQ.data
    ? [
        {
          key: `app:${appSlug}`,
          type: 'group' as const,
          label: appQ.data.name || appSlug,
          children: [
            ...defList(appQ.data, 'entities').filter((d) => access.design || access.may(`entity:${d.slug}`, 'read')).map((d) => ({
              key: `/apps/${appSlug}/entities/${d.slug}`, icon: <TableOutlined />, label: <span data-testid={`nav-entity-${d.slug}`}>{labelText(d.label, lang, d.slug)}</span>,
            })),
            ...defList(appQ.data, 'forms').filter((d) => access.design || access.may(`form:${d.slug}`, 'create')).map((d) => ({
              key: `/apps/${appSlug}/forms/${d.slug}`, icon: <FormOutlined />, label: <span data-testid={`nav-form-${d.slug}`}>{labelText(d.label ?? d.title, lang, d.slug)}</span>,
            })),
            ...defList(appQ.data, 'dashboards').map((d) => ({
              key: `/apps/${appSlug}/dashboards/${d.slug}`, icon: <DashboardOutlined />, label: <span data-testid={`nav-dashboard-${d.slug}`}>{labelText(d.label ?? d.title, lang, d.slug)}</span>,
            })),
            ...defList(appQ.data, 'reports').map((d) => ({
              key: `/apps/${appSlug}/reports/${d.slug}`, icon: <BarChartOutlined />, label: labelText(d.label ?? d.title, lang, d.slug),
            })),
          ],
        },
      ]
    : [];

  const items = [
    { key: '/apps', icon: <AppstoreOutlined />, label: t('nav.apps') },
    ...(me?.is_admin ? [{ key: '/templates', icon: <ThunderboltOutlined />, label: t('nav.templates') }] : []),
    { key: '/tasks', icon: <CheckSquareOutlined />, label: <span data-testid="nav-tasks">{t('nav.tasks')}</span> },
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
    ...appItems,
  ];
  const selected = items
    .flatMap((i) => ('children' in i && i.children ? i.children.map((c) => c.key) : [i.key]))
    .filter((k) => loc.pathname === k || (k === '/apps' && !appSlug) || (k !== '/apps' && loc.pathname.startsWith(k + '/')));
  // Builder screens refuse those who may not design, in their language.
  const designPath = isDesignPath(loc.pathname);
  const page = designPath && appSlug && !me?.is_admin && appQ.isLoading ? (
    <Spin style={{ margin: 80 }} />
  ) : designPath && appSlug && !me?.is_admin && !access.design ? (
    <Suspense fallback={<Spin style={{ margin: 80 }} />}><DesignRefused /></Suspense>
  ) : (
    <Outlet />
  );

  const menu = (
    <Menu
      theme="dark"
      mode="inline"
      data-testid="side-nav"
      selectedKeys={selected}
      defaultOpenKeys={loc.pathname.startsWith('/admin') ? ['admin'] : []}
      items={items}
      onClick={(e) => nav(e.key)}
    />
  );

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {phone ? (
        <Drawer
          placement="left"
          open={navOpen}
          onClose={() => setNavOpen(false)}
          width={264}
          closable={false}
          styles={{ body: { padding: 0, background: '#001529' } }}
          data-testid="nav-drawer"
        >
          <div className="brand">Tessera</div>
          {menu}
        </Drawer>
      ) : (
        <Sider breakpoint="lg" collapsible theme="dark" width={208}>
          <div className="brand">Tessera</div>
          {menu}
        </Sider>
      )}
      <Layout>
        <Header style={{ background: '#fff', padding: phone ? '0 12px' : '0 24px', display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: phone ? 10 : 16, borderBottom: '1px solid #f0f0f0' }}>
          {phone && (
            <Button type="text" icon={<MenuOutlined />} onClick={() => setNavOpen(true)} aria-label={t('nav.menu')} data-testid="nav-open" style={{ marginRight: 'auto' }} />
          )}
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
              {!phone && <Text>{me?.name || me?.email}</Text>}
            </Space>
          </Dropdown>
        </Header>
        <Content style={{ padding: 24, overflow: 'auto' }}>
          {page}
        </Content>
      </Layout>
    </Layout>
  );
}
