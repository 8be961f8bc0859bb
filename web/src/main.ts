import 'element-plus/dist/index.css'
import './styles.css'

import urql from '@urql/vue'
import { createApp } from 'vue'

import App from './App.vue'
import { CHANGE_PASSWORD, session, signOut, watchExpiry } from './composables/session'
import { connect } from './graphql/client'
import { i18n, rememberLanguage, savedLanguage } from './i18n'
import { router } from './router'

const language = savedLanguage()
i18n.global.locale.value = language
rememberLanguage(language)

// A refused token (expired, or ended by a password change, a deactivation or a new role or
// region; over HTTP or by the WebSocket closing with 4401) ends the session. A session whose
// password was reset can only change it.
const { client } = connect(session?.token ?? null, {
  onUnauthenticated: () => {
    if (session) signOut('expired')
  },
  onPasswordChangeRequired: () => {
    if (window.location.pathname !== CHANGE_PASSWORD) window.location.assign(CHANGE_PASSWORD)
  },
})
watchExpiry()

createApp(App).use(i18n).use(router).use(urql, client).mount('#app')
