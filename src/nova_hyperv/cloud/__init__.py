"""`nova-hyperv cloud`: a local all-in-one OpenStack cloud in one process, on 127.0.0.1.

What runs (docs/cloud.md has the picture): nova's real API, conductor, scheduler and one
nova-compute per emulated host, placement, and small services of ours that speak the
identity (Keystone v3), image (Glance v2), network (Neutron v2.0) and volume (Cinder v3)
APIs far enough for nova and python-openstackclient. Everything keeps its state in one
folder, so a restarted cloud still has its servers, flavors, images, ports and volumes.

Module map:
    settings      what to run: state folder, ports, hosts, profile, compute driver
    statedir      where each piece keeps its files; the cloud's accounts and secret
    tokens        demo identity: accounts, tokens signed with the cloud's secret
    catalog       the service catalog handed out with every token
    httpapi       JSON routing, errors and token checks shared by our services
    server        serving WSGI apps on 127.0.0.1 (cheroot)
    docstore      the services' records (images, networks, ports, volumes) in SQLite
    identity, images, network, volumes
                  the services themselves
    nova_auth     the token check in front of nova's API and placement (demo only)
    novaconf      nova.conf and api-paste.ini, rendered from the settings
    databases     nova's and placement's SQLite databases: schema, cells, write lock
    computes      which driver each nova-compute loads and how its host is prepared
    samples       the preloaded images and flavors
    instructions  what the command prints: environment variables, curl, commands
    runner        bring-up and shutdown, in order

Nothing here is imported by the Nova driver; only `nova_hyperv.cli.cloud` uses it.
"""
