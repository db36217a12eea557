"""The seed guide's Python client flow, with the standard library only: upload an image, ask for an
image-to-video and a text-to-video, poll each status until it ends, then list every task. Used by
test/seed-client.test.ts against `npm start` to show seed clients work unchanged. Exit code 0 = success."""
import json
import sys
import time
import urllib.request

BASE = sys.argv[1]
IMAGE = sys.argv[2]


def call(method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())


with open(IMAGE, "rb") as f:
    attachment = call("POST", "/api/file/upload?file_type=2&file_name=image.jpg", f.read(), "application/octet-stream")
assert attachment["type"] == "vlm_image" and attachment["key"], attachment

tasks = [
    call("POST", "/api/video-gen/generate", {"prompt": "请将这张图片生成一个5秒的视频", "image_attachment": attachment}),
    call("POST", "/api/video-gen/generate", {"prompt": "一只猫在月球上散步"}),
]
for created in tasks:
    assert created["success"] and created["task_status"] == "pending", created
    for _ in range(240):
        status = call("GET", "/api/video-gen/status?conversation_id=%s&message_id=%s"
                      % (created["conversation_id"], created["message_id"]))["task"]
        if status["status"] in ("completed", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "completed", status
    with urllib.request.urlopen(status["video_urls"][0], timeout=30) as video:
        assert video.read(12)[4:8] == b"ftyp"
    print("completed", created["conversation_id"], status["video_urls"][0])

listed = call("GET", "/api/video-gen/list")
assert listed["success"] and listed["total"] == 2, listed
print("listed", listed["total"])
