import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsDateString, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '../decorators/roles.decorator.js';

export class LocalLoginDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(64) username: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(1024) password: string;
}

export class CreateTeamDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(255) name: string;
  @ApiPropertyOptional({ description: 'IdP group (last path segment) whose members belong to this team' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  externalGroup?: string;
  @ApiPropertyOptional({ description: 'Team id; a UUID is generated when omitted' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/)
  id?: string;
}

export class UpdateTeamDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(255) name?: string;
  @ApiPropertyOptional({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(255) externalGroup?: string | null;
}

export class UpdateUserDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() active?: boolean;
  @ApiPropertyOptional({ enum: ROLES, isArray: true, description: 'Only for local users; SSO users get roles from the IdP' })
  @IsOptional()
  @IsArray()
  @IsIn(ROLES, { each: true })
  roles?: Role[];
}

export const SCOPE_PATTERN = /^[a-z][a-z_]{0,31}:(read|write|\*)$/;

export class CreateApiKeyDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(255) name: string;
  @ApiProperty({ example: ['conversations:read', 'tickets:write', 'telemetry:write'] })
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(SCOPE_PATTERN, { each: true, message: 'each scope must look like "<resource>:read", "<resource>:write" or "<resource>:*"' })
  scopes: string[];
  @ApiPropertyOptional({ description: 'ISO time after which the key stops working' }) @IsOptional() @IsDateString() expiresAt?: string;
  @ApiPropertyOptional({ description: 'Limit the key to one team' }) @IsOptional() @Matches(/^[A-Za-z0-9_.-]{1,64}$/) teamId?: string;
}
