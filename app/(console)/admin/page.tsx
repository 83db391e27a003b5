import type { Metadata } from "next";
import { AdminSubNav } from "@/components/admin/admin-sub-nav";
import { CreateUserForm } from "@/components/admin/create-user-form";
import { UserRowActions } from "@/components/admin/user-row-actions";
import { PageHeader } from "@/components/ui/page-header";
import { Badge, Table, Td, Th } from "@/components/ui/table";
import { requirePageActor } from "@/lib/auth/current-actor";
import { formatTimestamp } from "@/lib/format";
import { listUsers } from "@/lib/users/list-users";

export const metadata: Metadata = { title: "Admin · Users" };

export default async function AdminUsersPage() {
  const actor = await requirePageActor("users.manage");
  const users = await listUsers({ actor });
  return (
    <>
      <PageHeader title="Users" description="Console users and their roles. Disabling a user ends their sessions at once; every change is recorded in the audit trail." />
      <AdminSubNav current="/admin" role={actor.role} />
      <div className="space-y-6">
        <Table label="Users">
          <thead>
            <tr>
              <Th>User</Th>
              <Th>Role</Th>
              <Th>Status</Th>
              <Th>Last sign-in</Th>
              <Th>Actions</Th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <Td>
                  <p className="font-medium">{u.name}</p>
                  <p className="text-xs text-fg-muted">
                    {u.email}
                    {u.sso ? " · SSO" : ""}
                  </p>
                </Td>
                <Td>{u.role}</Td>
                <Td>{u.disabledAt ? <Badge tone="danger">disabled</Badge> : <Badge tone="success">active</Badge>}</Td>
                <Td className="text-xs">{formatTimestamp(u.lastSignInAt)}</Td>
                <Td>
                  <UserRowActions user={{ id: u.id, email: u.email, role: u.role, disabled: u.disabledAt !== null }} isSelf={u.id === actor.id} />
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
        <CreateUserForm />
      </div>
    </>
  );
}
