import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { TICKET_PRIORITIES, TICKET_TYPES, type TicketPriority, type TicketType } from '../tickets.types.js';
import type { WeeklyHours } from '../sla/business-time.js';

const YEAR_MINUTES = 366 * 24 * 60;

export class CreateCalendarDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ example: 'Europe/Berlin' }) @IsString() @Length(1, 64) timeZone: string;
  @ApiProperty({ example: { mon: [['09:00', '17:00']] }, description: 'Per weekday (sun … sat) a list of ["HH:MM","HH:MM"] local intervals' })
  @IsObject()
  hours: WeeklyHours;
  @ApiPropertyOptional({ type: [String], example: ['2026-12-25'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { each: true })
  holidays?: string[];
}

export class UpdateCalendarDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) timeZone?: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() hours?: WeeklyHours;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(1000) @Matches(/^\d{4}-\d{2}-\d{2}$/, { each: true }) holidays?: string[];
}

export class SlaConditionsDto {
  @ApiPropertyOptional({ enum: TICKET_PRIORITIES, isArray: true })
  @IsOptional()
  @IsArray()
  @IsIn(TICKET_PRIORITIES, { each: true })
  priorities?: TicketPriority[];
  @ApiPropertyOptional({ enum: TICKET_TYPES, isArray: true }) @IsOptional() @IsArray() @IsIn(TICKET_TYPES, { each: true }) types?: TicketType[];
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) teamIds?: string[];
  @ApiPropertyOptional() @IsOptional() @IsBoolean() vip?: boolean;
}

export class SlaTargetsDto {
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(YEAR_MINUTES) firstResponseMinutes?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(YEAR_MINUTES) nextResponseMinutes?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(YEAR_MINUTES) resolutionMinutes?: number;
}

export class SlaEscalationDto {
  @ApiPropertyOptional({ enum: TICKET_PRIORITIES }) @IsOptional() @IsIn(TICKET_PRIORITIES) setPriority?: TicketPriority;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) setTeamId?: string;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(20) @IsString({ each: true }) addFollowers?: string[];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 4000) note?: string;
}

export class CreatePolicyDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiPropertyOptional({ description: 'Lower is checked first' }) @IsOptional() @IsInt() @Min(0) @Max(1_000_000) position?: number;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ type: SlaConditionsDto }) @IsOptional() @ValidateNested() @Type(() => SlaConditionsDto) conditions?: SlaConditionsDto;
  @ApiProperty({ type: SlaTargetsDto }) @ValidateNested() @Type(() => SlaTargetsDto) targets: SlaTargetsDto;
  @ApiPropertyOptional({ default: 0 }) @IsOptional() @IsInt() @Min(0) @Max(YEAR_MINUTES) warningMinutes?: number;
  @ApiPropertyOptional({ nullable: true, description: 'null = 24×7' }) @IsOptional() @IsString() @Length(1, 36) calendarId?: string | null;
  @ApiPropertyOptional({ type: SlaEscalationDto }) @IsOptional() @ValidateNested() @Type(() => SlaEscalationDto) escalation?: SlaEscalationDto;
}

export class UpdatePolicyDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(1_000_000) position?: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ type: SlaConditionsDto }) @IsOptional() @ValidateNested() @Type(() => SlaConditionsDto) conditions?: SlaConditionsDto;
  @ApiPropertyOptional({ type: SlaTargetsDto }) @IsOptional() @ValidateNested() @Type(() => SlaTargetsDto) targets?: SlaTargetsDto;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(YEAR_MINUTES) warningMinutes?: number;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) calendarId?: string | null;
  @ApiPropertyOptional({ type: SlaEscalationDto }) @IsOptional() @ValidateNested() @Type(() => SlaEscalationDto) escalation?: SlaEscalationDto;
}
