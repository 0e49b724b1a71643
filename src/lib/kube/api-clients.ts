// client-node's generated API clients: most of client-node's load time, so they live in their own
// chunk of the kube bundle, loaded only by commands that call them (KubeSession.loadClients).
export {AppsV1Api, BatchV1Api, CoreV1Api} from '@kubernetes/client-node'
