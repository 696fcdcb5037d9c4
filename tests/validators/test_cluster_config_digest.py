"""cluster-config's digest of hawizard's objects, run with the real cibadmin against a file CIB the real crmsh or pcs
loaded the design into (CIB_file, as hawizard diff's shadow does).

The step is "already done" only while the digest equals the one recorded after the load: a change made by hand
to one of hawizard's objects makes it load the design again (hawizard diff shows that change; apply restores it),
while what the cluster and its tools write beside them (crm resource move's cli-prefer constraint, DRBD's
handler's constraint, maintenance-mode and the other properties) leaves it alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from hawizard.adopt.shadow import load_config, run_tool, scratch_cib
from hawizard.design.preset_file import load_preset
from hawizard.plan.steps.cluster import owned_digest
from hawizard.render.renderer import render

pytestmark = pytest.mark.skipif(shutil.which("cibadmin") is None, reason="cibadmin is not installed")


def _digest(design, env) -> tuple[str, str]:
    r = subprocess.run(["sh", "-c", owned_digest(design.cluster.ids)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip(), run_tool(["cibadmin", "--query", "--xpath",
                                       f"//*[@id='{design.cluster.ids.group}']"], env, "cibadmin")


@pytest.mark.parametrize("preset", ["debian12", "el9"])
def test_the_digest_sees_a_change_to_hawizards_objects_and_nothing_else(preset):
    design = load_preset(preset)
    ids = design.cluster.ids
    with scratch_cib("hawizard-digest-") as (cib, env):
        cib.write_text(run_tool(["cibadmin", "--empty"], env, "cibadmin --empty"))
        for i, name in enumerate(design.node_names, start=1):
            run_tool(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'], env, "cibadmin")
        load_config(design, render(design), cib, env)
        loaded, group = _digest(design, env)
        assert ids.ip in group, "the xpath reaches the group and the primitives inside it"

        # beside hawizard's objects: a move's constraint, DRBD's fence constraint, properties
        for xml in (f'<rsc_location id="cli-prefer-{ids.group}" rsc="{ids.group}" node="{design.node_names[0]}" '
                    'score="INFINITY" role="Started"/>',
                    f'<rsc_location id="drbd-fence-by-handler-r0-{ids.drbd_clone}" rsc="{ids.drbd_clone}" '
                    f'role="Promoted"><rule id="drbd-fence-rule" score="-INFINITY"><expression attribute="#uname" '
                    f'id="drbd-fence-expr" operation="ne" value="{design.node_names[0]}"/></rule></rsc_location>'):
            run_tool(["cibadmin", "-C", "-o", "constraints", "-X", xml], env, "cibadmin -C")
        run_tool(["crm_attribute", "-t", "crm_config", "-n", "maintenance-mode", "-v", "true"], env, "crm_attribute")
        assert _digest(design, env)[0] == loaded, "what others write beside hawizard's objects changed the digest"

        # by hand, on hawizard's objects: a meta attribute, then a parameter (crm_resource leaves an empty
        # meta_attributes set behind when it deletes the attribute again: a change too, which a load replaces)
        run_tool(["crm_resource", "-r", ids.web, "--meta", "-p", "target-role", "-v", "Stopped"], env, "crm_resource")
        stopped = _digest(design, env)[0]
        assert stopped != loaded
        run_tool(["crm_resource", "-r", ids.ip, "-p", "cidr_netmask", "-v", "16"], env, "crm_resource")
        assert _digest(design, env)[0] not in (loaded, stopped)

        # what the step then runs: the design's definitions go back over the hand-made changes
        load_config(design, render(design), cib, env)
        xml = run_tool(["cibadmin", "--query", "--xpath", f"//*[@id='{ids.group}']"], env, "cibadmin")
        assert 'name="target-role"' not in xml
        assert re.search(rf'name="cidr_netmask" value="{design.service.vip_prefix}"', xml), xml
