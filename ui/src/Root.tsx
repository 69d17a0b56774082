import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Suspense, lazy } from 'react';
import { App as AntApp, ConfigProvider, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { ApiError, setOnUnauthorized } from './api/client';
import RequireAuth from './components/RequireAuth';

// Every page is its own chunk, loaded when its route is first shown, so the first page (login,
// app list) carries neither the designers nor echarts, @xyflow or CodeMirror
// (scripts/bundle-size.mjs checks the budget in `make test`).
const Login = lazy(() => import('./pages/Login'));
// The app frame (menu, notifications) is not needed by the login form.
const Shell = lazy(() => import('./components/Shell'));
const AppsList = lazy(() => import('./pages/AppsList'));
const AppHome = lazy(() => import('./pages/AppHome'));
const Templates = lazy(() => import('./pages/Templates'));
const EntityDesigner = lazy(() => import('./pages/EntityDesigner'));
const Records = lazy(() => import('./pages/Records'));
const FormDesigner = lazy(() => import('./pages/FormDesigner'));
const FormFill = lazy(() => import('./pages/FormFill'));
const FlowRuns = lazy(() => import('./pages/Runs').then((m) => ({ default: m.FlowRuns })));
const Credentials = lazy(() => import('./pages/Credentials'));
const AppRuns = lazy(() => import('./pages/Runs').then((m) => ({ default: m.AppRuns })));
const RunDetail = lazy(() => import('./pages/Runs').then((m) => ({ default: m.RunDetail })));
const Tasks = lazy(() => import('./pages/Tasks'));
const AdminUsers = lazy(() => import('./pages/admin/Users'));
const AdminTeams = lazy(() => import('./pages/admin/Teams'));
const AdminRoles = lazy(() => import('./pages/admin/Roles'));
const AdminAudit = lazy(() => import('./pages/admin/Audit'));
const NotFound = lazy(() => import('./pages/NotFound'));
const FlowDesigner = lazy(() => import('./pages/FlowDesigner'));
const ReportBuilder = lazy(() => import('./pages/ReportBuilder'));
const DashboardPage = lazy(() => import('./pages/Dashboard'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (n, e) => !(e instanceof ApiError && e.status >= 400 && e.status < 500) && n < 2,
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
  },
});

// A 401 on any call means the session is gone: forget the user so RequireAuth sends them to /login.
setOnUnauthorized(() => queryClient.setQueryData(['me'], null));

export default function Root() {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider locale={i18n.language === 'en' ? enUS : zhCN} theme={{ token: { colorPrimary: '#1677ff', borderRadius: 6 } }}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <Suspense fallback={<Spin style={{ margin: 80 }} />}>
            <Routes>
              <Route path="/login" element={<Login />} />
              <Route element={<RequireAuth><Shell /></RequireAuth>}>
                <Route index element={<Navigate to="/apps" replace />} />
                <Route path="apps" element={<AppsList />} />
                <Route path="templates" element={<Templates />} />
                <Route path="tasks" element={<Tasks />} />
                <Route path="runs/:id" element={<RunDetail />} />
                <Route path="apps/:app" element={<AppHome />} />
                <Route path="apps/:app/entities/:slug/design" element={<EntityDesigner />} />
                <Route path="apps/:app/entities/:slug" element={<Records />} />
                <Route path="apps/:app/forms/:slug/design" element={<FormDesigner />} />
                <Route path="apps/:app/forms/:slug" element={<FormFill />} />
                <Route path="apps/:app/flows/:slug/design" element={<FlowDesigner />} />
                <Route path="apps/:app/flows/:slug" element={<FlowDesigner />} />
                <Route path="apps/:app/flows/:slug/runs" element={<FlowRuns />} />
                <Route path="apps/:app/runs" element={<AppRuns />} />
                <Route path="apps/:app/credentials" element={<Credentials />} />
                <Route path="apps/:app/reports/:slug/design" element={<ReportBuilder />} />
                <Route path="apps/:app/reports/:slug" element={<ReportBuilder />} />
                <Route path="apps/:app/dashboards/:slug" element={<DashboardPage />} />
                <Route path="admin" element={<Navigate to="/admin/users" replace />} />
                <Route path="admin/users" element={<AdminUsers />} />
                <Route path="admin/teams" element={<AdminTeams />} />
                <Route path="admin/roles" element={<AdminRoles />} />
                <Route path="admin/audit" element={<AdminAudit />} />
                <Route path="*" element={<NotFound />} />
              </Route>
            </Routes>
            </Suspense>
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
