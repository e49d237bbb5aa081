import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';

const QueryInt = () =>
  Transform(({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value));
const QueryBool = () => Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
export const CONTACT_SORTS = ['createdAt', '-createdAt', 'updatedAt', '-updatedAt'] as const;

export class ContactPointDto {
  @ApiProperty({ example: 'ada@example.com' }) @IsString() @Length(1, 320) value: string;
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() verified?: boolean;
}

export class CreateContactDto {
  @ApiPropertyOptional({ example: 'Ada Lovelace' }) @IsOptional() @IsString() @Length(1, 200) name?: string | null;
  @ApiPropertyOptional({ type: [ContactPointDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => ContactPointDto)
  emails?: ContactPointDto[];
  @ApiPropertyOptional({ type: [ContactPointDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => ContactPointDto)
  phones?: ContactPointDto[];
  @ApiPropertyOptional({ example: 'zh-CN' }) @IsOptional() @IsString() @Matches(LANGUAGE) language?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() vip?: boolean;
  @ApiPropertyOptional({ type: [String], description: 'Segment tags' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  tags?: string[];
  @ApiPropertyOptional({ description: 'Custom attributes, checked against the admin-defined schema (GET /api/v1/contact-attributes); null removes one' })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true, description: 'Owning team; null = visible to every team' }) @IsOptional() @IsString() @Length(1, 36) teamId?:
    string | null;
}

export class UpdateContactDto extends CreateContactDto {}

export class SearchContactsQuery {
  @ApiPropertyOptional({ description: 'A name (every word must match a word of the name, case-insensitive), an email, a phone number or a channel identifier' })
  @IsOptional()
  @IsString()
  @Length(1, 320)
  q?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 320) email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 40) phone?: string;
  @ApiPropertyOptional({ description: 'A channel external id' }) @IsOptional() @IsString() @Length(1, 320) identifier?: string;
  @ApiPropertyOptional({ description: 'Narrows `identifier` to one channel' }) @IsOptional() @IsString() @Length(1, 64) channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) tag?: string;
  @ApiPropertyOptional() @IsOptional() @QueryBool() @IsBoolean() vip?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) teamId?: string;
  @ApiPropertyOptional({ description: 'Include merged tombstones' }) @IsOptional() @QueryBool() @IsBoolean() includeMerged?: boolean;
  @ApiPropertyOptional({ enum: CONTACT_SORTS, default: '-createdAt' }) @IsOptional() @IsIn(CONTACT_SORTS) sort?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 512) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(100) limit?: number;
}

export class MergeContactDto {
  @ApiProperty({ description: 'The contact to fold into this one; it stays as a tombstone pointing here' }) @IsString() @Length(1, 36) mergedId: string;
}

export class AddIdentityDto {
  @ApiProperty({ example: 'whatsapp' }) @IsString() @Matches(/^[a-z0-9][a-z0-9_-]{0,63}$/) channel: string;
  @ApiProperty({ example: '+8613800138000' }) @IsString() @Length(1, 320) externalId: string;
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() verified?: boolean;
}

export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'date', 'enum'] as const;

export class PutAttributeDefDto {
  @ApiProperty() @IsString() @Length(1, 200) label: string;
  @ApiProperty({ enum: ATTRIBUTE_TYPES }) @IsIn(ATTRIBUTE_TYPES) type: (typeof ATTRIBUTE_TYPES)[number];
  @ApiPropertyOptional({ type: [String], description: 'Required for enum' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  options?: string[];
}

export class ContactPointView {
  @ApiProperty() value: string;
  @ApiProperty() verified: boolean;
}

export class ContactIdentityViewDto {
  @ApiProperty() id: string;
  @ApiProperty() channel: string;
  @ApiProperty() externalId: string;
  @ApiProperty() verified: boolean;
  @ApiProperty() createdAt: string;
}

export class ContactViewDto {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ type: [ContactPointView] }) emails: ContactPointView[];
  @ApiProperty({ type: [ContactPointView] }) phones: ContactPointView[];
  @ApiProperty({ nullable: true, type: String }) language: string | null;
  @ApiProperty() vip: boolean;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ type: Object }) attributes: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) teamId: string | null;
  @ApiProperty({ enum: ['active', 'merged'] }) status: string;
  @ApiProperty({ nullable: true, type: String }) mergedIntoId: string | null;
  @ApiProperty({ type: [ContactIdentityViewDto] }) identities: ContactIdentityViewDto[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class ContactPageDto {
  @ApiProperty({ type: [ContactViewDto] }) items: ContactViewDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class AttributeDefViewDto {
  @ApiProperty() key: string;
  @ApiProperty() label: string;
  @ApiProperty({ enum: ATTRIBUTE_TYPES }) type: string;
  @ApiProperty({ nullable: true, type: [String] }) options: string[] | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}
