"""The parts of the networkPolicies generator (kharden/generators/networkpolicies.py): inventory (the input,
indexed), references (host names in env/args/ConfigMaps), graph and routes (edges), existing (policies already in
the input), rules (the allow-list being built) and policies (the objects)."""
