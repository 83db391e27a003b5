-- Facet counts under a server or a status filter read these indexes only (bench:inventory).
CREATE INDEX "handle_server_id_status_principal_id_idx" ON "handle"("server_id", "status", "principal_id");

CREATE INDEX "handle_status_server_id_principal_id_idx" ON "handle"("status", "server_id", "principal_id");
