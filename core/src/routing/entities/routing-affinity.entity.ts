import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

/** The agent who last served a contact, for sticky routing of returning customers. */
@Entity('routing_affinity')
export class RoutingAffinityRow {
  @PrimaryColumn({ name: 'contact_id', type: 'varchar', length: 64 })
  contactId: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 191 })
  agentId: string;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
