// Starts one search engine node in this JVM through one of the codelibs runners, bound to
// loopback, and keeps it running until the process is told to stop (SIGTERM):
//   org.codelibs.opensearch.runner.OpenSearchRunner                 (OpenSearch)
//   org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner   (Elasticsearch 7.10)
// Both runners have the same API in different packages, so it is driven by reflection and
// one file serves both. Run in single-file source mode by local_stack/servers.py:
//   java -cp <runner classpath> EmbeddedNode.java <runnerClass> <basePath> <httpPort> <transportPort> <clusterName>
//        [<setting>=<value> ...]
// The optional settings are given to the node as they are (node name, node attributes and the
// discovery settings of a multi-node cluster, see local_stack/cluster.py).
// Unlike the runners' own main(), it prints the real cause when the node cannot start.

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

public class EmbeddedNode {
    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: EmbeddedNode <runnerClass> <basePath> <httpPort> <transportPort> <clusterName>"
                + " [<setting>=<value> ...]");
            System.exit(2);
        }
        final Class<?> runnerClass = Class.forName(args[0]);
        final int httpPort = Integer.parseInt(args[2]);
        final String transportPort = args[3];
        final Object runner = runnerClass.getConstructor().newInstance();
        runnerClass.getMethod("setMaxHttpPort", int.class).invoke(runner, -1); // it would refuse ports above 9299
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runnerClass.getMethod("close").invoke(runner);
            } catch (Exception e) {
                System.err.println("error while stopping the node: " + e);
            }
        }));
        try {
            onBuild(runnerClass, runner, transportPort, java.util.Arrays.copyOfRange(args, 5, args.length));
            Object configs = runnerClass.getMethod("newConfigs").invoke(null);
            configs = call(configs, "basePath", String.class, args[1]);
            configs = call(configs, "numOfNode", int.class, 1);
            configs = call(configs, "baseHttpPort", int.class, httpPort - 1); // the runner adds the node number (1)
            configs = call(configs, "clusterName", String.class, args[4]);
            runnerClass.getMethod("build", configs.getClass()).invoke(runner, configs);
        } catch (Throwable t) {
            System.err.println("the node failed to start:");
            (t instanceof InvocationTargetException ? t.getCause() : t).printStackTrace();
            System.exit(1);
        }
        System.out.println("ORDERREPO NODE STARTED http://127.0.0.1:" + httpPort);
        final Method isClosed = runnerClass.getMethod("isClosed");
        while (!(Boolean) isClosed.invoke(runner)) {
            Thread.sleep(1000);
        }
    }

    private static void onBuild(Class<?> runnerClass, Object runner, String transportPort, String[] extra)
            throws Exception {
        final Class<?> builder = Class.forName(runnerClass.getName() + "$Builder");
        final Object settingsHook = Proxy.newProxyInstance(builder.getClassLoader(), new Class<?>[] {builder},
            (proxy, method, hookArgs) -> {
                if (!method.getName().equals("build")) {
                    return method.getName().equals("hashCode") ? System.identityHashCode(proxy) : null;
                }
                final Object settings = hookArgs[1];
                final Method put = settings.getClass().getMethod("put", String.class, String.class);
                put.invoke(settings, "network.host", "127.0.0.1");
                put.invoke(settings, "transport.port", transportPort);
                put.invoke(settings, "cluster.routing.allocation.disk.threshold_enabled", "false");
                put.invoke(settings, "action.destructive_requires_name", "false");
                for (String setting : extra) {
                    final int equals = setting.indexOf('=');
                    put.invoke(settings, setting.substring(0, equals), setting.substring(equals + 1));
                }
                return null;
            });
        runnerClass.getMethod("onBuild", builder).invoke(runner, settingsHook);
    }

    private static Object call(Object target, String name, Class<?> type, Object value) throws Exception {
        return target.getClass().getMethod(name, type).invoke(target, value);
    }
}
