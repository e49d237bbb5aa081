import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsInt, IsOptional, Min } from 'class-validator';

export class UpdateSettingDto {
  @ApiProperty({ description: 'The new value; its type depends on the setting', example: 'Asia/Shanghai' })
  @IsDefined()
  value: unknown;

  @ApiPropertyOptional({ description: 'Optimistic concurrency: the version you read. A mismatch returns 409.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  expectedVersion?: number;
}

export class SettingView {
  @ApiProperty() key: string;
  @ApiProperty() value: unknown;
  @ApiProperty({ description: '0 while the default is in effect' }) version: number;
  @ApiProperty() description: string;
  @ApiProperty({ nullable: true, type: String }) updatedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) updatedBy: string | null;
}
