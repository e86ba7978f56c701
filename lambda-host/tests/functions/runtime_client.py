"""A Lambda function speaking the Runtime API by hand (stdlib only), with a
behaviour chosen by its first argument, for the gateway's Lambda-mode tests:

  echo        answers {"pid", "event", "request_id"} for every event
  slow MS     the same, after sleeping MS milliseconds per event
  unauthorized  fails every invocation with errorMessage "Unauthorized"
  crash       takes one event and exits with status 3 without answering
  hang        takes one event and never answers
  init-error  reports an init error to /runtime/init/error and exits
"""

import json
import os
import sys
import time
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body):
    request = urllib.request.Request(API + path, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request).read()


def main():
    behaviour = sys.argv[1]
    if behaviour == "init-error":
        post("/init/error", {"errorMessage": "missing JWT_ISSUER", "errorType": "Runtime.InitError"})
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as response:
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(response.read())
        if behaviour == "crash":
            sys.exit(3)
        if behaviour == "hang":
            time.sleep(3600)
        if behaviour == "unauthorized":
            post(f"/invocation/{request_id}/error", {"errorMessage": "Unauthorized", "errorType": "Error"})
            continue
        if behaviour == "slow":
            time.sleep(int(sys.argv[2]) / 1000)
        post(f"/invocation/{request_id}/response", {"pid": os.getpid(), "event": event, "request_id": request_id})


if __name__ == "__main__":
    main()
