"""``create-user`` and ``make-admin``: accounts on the running server."""

from __future__ import annotations

import argparse
import sys

from hearth import synapse_admin as admin
from hearth.cli.common import EXIT_FAILED, Commands, add_command, data_dir, rendered_server


def register(commands: Commands) -> None:
    """Add the two subcommands."""
    create_cmd = add_command(commands, "create-user",
                             "create an account through the shared-secret registration API",
                             cmd_create_user)
    create_cmd.add_argument("username", help="localpart of the new account, e.g. alice")
    create_cmd.add_argument("--password", default=None, help="password (generated if omitted)")
    create_cmd.add_argument("--admin", action="store_true", help="make the account a server admin")
    create_cmd.add_argument("--displayname", default=None, help="display name")

    admin_cmd = add_command(commands, "make-admin", "grant (or --revoke) server admin",
                            cmd_make_admin)
    admin_cmd.add_argument("user_id", help="full user ID, e.g. @alice:localhost")
    admin_cmd.add_argument("--revoke", action="store_true", help="remove admin instead")


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create an account on the running server."""
    config, url = rendered_server(data_dir(args.data_dir))
    account = admin.register_user(
        url, config["registration_shared_secret"], args.username,
        password=args.password, admin=args.admin, displayname=args.displayname,
    )
    print(f"created {account.user_id}" + (" (admin)" if args.admin else ""))
    if args.password is None:
        print(f"password: {account.password}")
    return 0


def cmd_make_admin(args: argparse.Namespace) -> int:
    """Grant or revoke admin with the saved admin's token."""
    data = data_dir(args.data_dir)
    _, url = rendered_server(data)
    credentials = admin.load_admin_credentials(data)
    if credentials is None:
        print(f"error: no admin credentials in {data}; run `make run` once first",
              file=sys.stderr)
        return EXIT_FAILED
    admin.set_admin(url, credentials["access_token"], args.user_id,
                    admin=not args.revoke)
    print(f"{args.user_id} is {'no longer ' if args.revoke else ''}a server admin")
    return 0
