#!/usr/bin/env python3
# A test camera: GStreamer's RTSP server (Debian gir1.2-gst-rtsp-server-1.0) serving an H264 test pattern at
# rtsp://127.0.0.1:<port>/<mount>. Used by the RTSP component tests; never by the media server.
# Usage: rtsp-camera.py PORT MOUNT WIDTH HEIGHT [USER PASSWORD]   (the password is read from stdin when USER is given,
# so it is not on this process's command line either). Prints "ready" once it listens; runs until killed.
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port, mount, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
user = sys.argv[5] if len(sys.argv) > 5 else None
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
# one shared pipeline; a key frame every second so a new viewer decodes quickly
factory.set_launch(
    f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate=30/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=500 "
    "! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
factory.set_shared(True)
if user:
    password = sys.stdin.readline().rstrip("\n")
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, user)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    role, _ = Gst.Structure.from_string(f"{user}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")
    permissions.add_role_from_structure(role)
    factory.set_permissions(permissions)
server.get_mount_points().add_factory("/" + mount, factory)
if server.attach(None) == 0:
    print("could not listen", flush=True)
    sys.exit(1)
print("ready", flush=True)
GLib.MainLoop().run()
