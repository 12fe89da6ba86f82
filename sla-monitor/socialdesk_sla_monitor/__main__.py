from socialdesk_runtime.service import run_service
from socialdesk_sla_monitor.bootstrap import SPEC

if __name__ == "__main__":
    run_service(SPEC)
