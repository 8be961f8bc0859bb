import 'element-plus/dist/index.css'
import './styles.css'

import urql from '@urql/vue'
import { createApp } from 'vue'

import App from './App.vue'
import { session, signOut, watchExpiry } from './composables/session'
import { connect } from './graphql/client'
import { i18n, rememberLanguage, savedLanguage } from './i18n'
import { router } from './router'

const language = savedLanguage()
i18n.global.locale.value = language
rememberLanguage(language)

// A refused token (expired, or the user was deactivated) ends the session.
const { client } = connect(session?.token ?? null, () => {
  if (session) signOut('expired')
})
watchExpiry()

createApp(App).use(i18n).use(router).use(urql, client).mount('#app')
