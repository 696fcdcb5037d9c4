#!/bin/sh
# hawizard lab image, step 1 of 2: runs inside the freshly debootstrapped root file system
# (chroot), before any package is installed with apt. Part of the recipe hash.
# Environment: LAB_SUITE, LAB_MIRROR, LAB_SECURITY (may be empty).
set -eu

# No service may start inside the chroot while packages install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

# Leave manuals, docs and translations out: less to unpack under an emulated CPU, and a
# smaller image. Copyright files stay.
cat > /etc/dpkg/dpkg.cfg.d/01-hawizard-lab-nodoc <<'CFG'
path-exclude=/usr/share/man/*
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG

# apt in the chroot uses the host's mirror; step 2 replaces this with the local repository.
rm -f /etc/apt/sources.list.d/*
{
    echo "deb $LAB_MIRROR $LAB_SUITE main"
    echo "deb $LAB_MIRROR $LAB_SUITE-updates main"
    if [ -n "$LAB_SECURITY" ]; then
        echo "deb $LAB_SECURITY $LAB_SUITE-security main"
    fi
} > /etc/apt/sources.list
apt-get update
