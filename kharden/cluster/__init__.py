"""What kharden knows about the cluster layer, shared by its checks (kharden.checks.cluster) and its mutators
(controlPlane, kubeletConfiguration, ingressTls): the CIS table, how a control-plane container and its flags are
read, when a fix is safe, and which Ingress hosts lack TLS. A layer below both, so that neither imports the other."""
