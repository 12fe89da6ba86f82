from socialdesk_classifier.bootstrap import SPEC
from socialdesk_runtime.service import run_service

if __name__ == "__main__":
    run_service(SPEC)
