"""Who calls whom: the traffic graph, from the manifests and from Prometheus."""
