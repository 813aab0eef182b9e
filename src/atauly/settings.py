"""One settings object for the whole project, read from ``ATAULY_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Project configuration. Defaults make ``make demo`` work on local files."""

    model_config = SettingsConfigDict(env_prefix="ATAULY_", extra="ignore")

    home: Path = Field(default=Path("./var"), description="Data directory: registries, results, reports.")
    lang: str = Field(default="ru", description="Default locale for user-facing text: ru, kk or en.")

    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, description="Worker processes/threads for batch jobs."
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the casework service's database; unset: a SQLite file under home.",
    )
    scan_capacity_per_1000: float = Field(
        default=4.0,
        description="Home visits a district can make for the proactive scan's offers per quarter, per 1,000 "
        "families (assumption from caseloads: about 2 social workers in an average district of 32,500 "
        "families, 5 extra visits a week each for 12 weeks ≈ 120 visits ≈ 3.7 per 1,000).",
    )
    scan_capacity: int | None = Field(
        default=None,
        description="The same capacity as a number of visits per district and quarter (overrides the rate).",
    )
    scan_min_probability: float = Field(
        default=0.5,
        description="No offer to a family whose population-calibrated probability of entitlement is below "
        "this: capacity is a ceiling, not a quota (0.5: an offer is more likely right than wrong).",
    )
    service_model: str = Field(
        default="asp-demo", description="Model (name, alias or NAME@vN) the casework service recommends with."
    )
    service_engine_process: bool = Field(
        default=True,
        description="Compute the law and the model for the casework service in a child process (keeps their "
        "CPU work off the threads that answer requests); false: in a thread of the server's process.",
    )
    service_engine_shared: bool = Field(
        default=True,
        description="With atauly serve --workers N: one engine process shared by the workers (full batches: "
        "the law's and the model's cost is mostly fixed per batch); false: one child process per worker.",
    )
    service_threads: int = Field(
        default=8,
        ge=1,
        description="Worker threads doing requests' work at once (database, pages) in each serving process, "
        "besides those of web sign-ins waiting for a password hash (login_hash_slots + login_hash_queue); "
        "further requests wait their turn on the event loop, first come, first served.",
    )
    service_engine_socket: str | None = Field(
        default=None,
        description="Set by atauly serve --workers N for its workers: the shared engine process's Unix "
        "socket (batches are computed there). Not for setting by hand.",
    )
    session_hours: float = Field(
        default=8.0, description="Lifetime of a web session, and of an API refresh token, hours."
    )
    token_minutes: float = Field(
        default=15.0, description="Lifetime of an API access token, minutes (renewed with the refresh token)."
    )
    login_max_failures: int = Field(
        default=5,
        description="Wrong passwords for one username from one source (device cookie, else client address) "
        "within login_lockout_minutes that lock that source out of it.",
    )
    login_max_failures_untrusted: int = Field(
        default=20,
        description="Wrong passwords for one username from all unrecognised sources within "
        "login_lockout_minutes that lock it for them (its recognised sources can still sign in).",
    )
    login_trust_days: float = Field(
        default=90.0,
        description="A device or client address from which a user signed in successfully is recognised "
        "for this many days.",
    )
    login_lockout_minutes: float = Field(
        default=15.0, description="The lock-out's window and length; an admin lifts it with `users unlock`."
    )
    login_per_address: int = Field(
        default=20, description="Failed sign-ins from one client address in 5 minutes before it is refused."
    )
    login_hash_slots: int = Field(
        default=2, description="Password hashes computed at once (each argon2 hash takes 64 MiB)."
    )
    login_hash_queue: int = Field(
        default=4, description="Web sign-ins waiting for a hash slot (each holds a thread); beyond: 429."
    )
    login_hash_queue_api: int = Field(
        default=64, description="API sign-ins waiting for a hash slot (no thread held); beyond: 429."
    )
    audit_summary_seconds: float = Field(
        default=60.0, description="Refused sign-ins and bad tokens are written as one audit event this often."
    )
    audit_key: str | None = Field(
        default=None,
        description="Audit chain keys as `ID:HEX[,ID:HEX…]` (the last signs); unset: the key file.",
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="File of audit keys (one `ID HEX` a line, the last signs); default "
        "ATAULY_HOME/audit.key, created with one key (mode 600) when missing.",
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="Where the audit chain's head is anchored (a keyed checkpoint file per database); "
        "default ATAULY_HOME/audit-checkpoints.",
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0, description="How often the running service anchors the audit chain's head."
    )
    statistics_min_cell: int = Field(
        default=10, description="Statistics cells counting fewer applications are shown as '<N'."
    )
    akimat_contacts: Path | None = Field(
        default=None,
        description="A JSON file of the district akimats' contacts for the decision notice: district KATO → "
        "{address, phone, email, hours}, each a text or {ru, kk, en}. Unset, or a district missing from it: "
        "the notice names the akimat and gives the public contact lines instead (eGov's contact centre 1414, "
        "egov.kz); no address or name is invented (docs/service.md).",
    )
    photo_retention_days: int = Field(
        default=1825,
        ge=1,
        description="Days photo originals are kept after an application's final decision, then deleted by "
        "`atauly vision purge` (set it to the records schedule the operator follows).",
    )
    photo_purge_hours: float = Field(
        default=24.0,
        ge=0,
        description="How often the running service deletes photo originals past their retention date, in "
        "hours (first at start); 0: never — then schedule `atauly vision purge` (cron or a systemd timer).",
    )

    vision_store: Literal["files", "s3"] = Field(
        default="files",
        description="Where photo originals and their redacted derivatives are kept, encrypted: 'files' "
        "(content-addressed under ATAULY_HOME/vision/store) or 's3' (an S3-compatible bucket: AWS, MinIO, "
        "Ceph; needs `pip install 'atauly[s3]'`). The blobs are encrypted before upload either way.",
    )
    vision_s3_bucket: str | None = Field(default=None, description="The bucket of the S3 photo store.")
    vision_s3_prefix: str = Field(
        default="vision/store/", description="Key prefix of the photo store's objects in the bucket."
    )
    vision_s3_endpoint_url: str | None = Field(
        default=None,
        description="The S3 endpoint (e.g. https://minio.example.kz:9000); unset: AWS's for the region.",
    )
    vision_s3_region: str | None = Field(default=None, description="The S3 region; unset: boto3's default.")
    vision_s3_access_key_id: SecretStr | None = Field(
        default=None,
        description="Access key of the S3 photo store; unset: boto3's own chain (AWS_ACCESS_KEY_ID, "
        "~/.aws, an instance role). Never shown or logged.",
    )
    vision_s3_secret_access_key: SecretStr | None = Field(
        default=None,
        description="Secret key of the S3 photo store (with the access key). Never shown or logged.",
    )

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'atauly.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def results_dir(self) -> Path:
        return self.home / "results"

    @property
    def sample_registry_dir(self) -> Path:
        return self.home / "registry" / "sample"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
