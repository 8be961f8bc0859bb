// Each screen is its own chunk, loaded when first visited; the sign-in page needs nothing else.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'

import type { Role } from '@/gql/graphql'

import { CHANGE_PASSWORD, hasRole, homeFor, mustChangePassword, session } from './composables/session'

declare module 'vue-router' {
  interface RouteMeta {
    roles?: Role[]
  }
}

const REGULATOR: Role[] = ['REGULATOR', 'ADMIN']
const ANYONE: Role[] = ['REGULATOR', 'ENTERPRISE', 'ADMIN']
const VERIFICATION: Role[] = ['REGULATOR', 'ENTERPRISE', 'ADMIN', 'VERIFIER']

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('./features/auth/LoginPage.vue') },
  {
    path: '/',
    component: () => import('./components/AppShell.vue'),
    children: [
      { path: '', redirect: () => (session ? homeFor(session.role) : '/login') },
      { path: 'overview', component: () => import('./features/overview/OverviewPage.vue'), meta: { roles: REGULATOR } },
      { path: 'alarms', component: () => import('./features/alarms/AlarmsPage.vue'), meta: { roles: REGULATOR } },
      { path: 'enterprises', component: () => import('./features/enterprises/EnterprisesPage.vue'), meta: { roles: REGULATOR } },
      { path: 'enterprise-import', component: () => import('./features/register/EnterpriseImportPage.vue'), meta: { roles: REGULATOR } },
      { path: 'enterprises/:id', component: () => import('./features/enterprises/EnterprisePage.vue'), meta: { roles: REGULATOR } },
      { path: 'allocation', component: () => import('./features/allocation/AllocationPage.vue'), meta: { roles: REGULATOR } },
      { path: 'notices', component: () => import('./features/notices/NoticesPage.vue'), meta: { roles: ANYONE } },
      { path: 'notices/new', component: () => import('./features/notices/IssueNoticePage.vue'), meta: { roles: REGULATOR } },
      { path: 'notices/:id', component: () => import('./features/notices/NoticePage.vue'), meta: { roles: ANYONE } },
      { path: 'review', component: () => import('./features/review/ReviewPage.vue'), meta: { roles: REGULATOR } },
      { path: 'statistics', component: () => import('./features/statistics/StatisticsPage.vue'), meta: { roles: REGULATOR } },
      { path: 'sources', component: () => import('./features/sources/SourcesPage.vue'), meta: { roles: REGULATOR } },
      { path: 'energy', component: () => import('./features/energy/EnergyPage.vue'), meta: { roles: ANYONE } },
      { path: 'verifications', component: () => import('./features/verification/VerificationsPage.vue'), meta: { roles: VERIFICATION } },
      { path: 'verifications/:id', component: () => import('./features/verification/VerificationPage.vue'), meta: { roles: VERIFICATION } },
      { path: 'admin/bodies', component: () => import('./features/verification/BodiesPage.vue'), meta: { roles: ['ADMIN'] } },
      { path: 'inbox', component: () => import('./features/inbox/InboxPage.vue'), meta: { roles: ['REGULATOR', 'ENTERPRISE', 'VERIFIER'] } },
      { path: 'account/password', component: () => import('./features/auth/ChangePasswordPage.vue'), meta: { roles: VERIFICATION } },
      { path: 'admin/users', component: () => import('./features/admin/UsersPage.vue'), meta: { roles: ['ADMIN', 'REGULATOR'] } },
      { path: 'admin/enterprises', component: () => import('./features/admin/AdminEnterprisesPage.vue'), meta: { roles: ['ADMIN'] } },
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach((to) => {
  if (to.path === '/login') return session ? homeFor(session.role) : true
  if (!session) return { path: '/login', query: { next: to.fullPath } }
  // After a password reset the server answers nothing else until a new password is chosen.
  if (mustChangePassword() && to.path !== CHANGE_PASSWORD) return { path: CHANGE_PASSWORD, query: { next: to.fullPath } }
  // The API refuses what a role may not do; this only keeps people off screens that would be empty.
  if (to.meta.roles && !hasRole(...to.meta.roles)) return homeFor(session.role)
  return true
})
